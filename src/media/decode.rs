//! Decoding one audio file with symphonia, packet by packet, into f32
//! samples: interleaved for playback, one vector per channel for the
//! measuring pass. Decoding is gapless: the encoder delay and padding the
//! container declares (an MP3's LAME header, an Ogg's granule positions)
//! are trimmed, so the first sample handed out is the recording's first and
//! the last its last. A file whose container header is impossible is
//! refused before symphonia sees it (see `header`), and a panic in a codec
//! or demuxer is contained to the file (see `contain`). It counts what it
//! meets on the way (packets it could not decode, jumps in the timestamps)
//! but does not measure, hash or judge the file: measure.rs and validate.rs
//! do.

use std::fs::File;

use symphonia::core::codecs::audio::well_known as codecs;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use super::folder::MediaPath;
use super::probe::ProbeError;

/// Names for codecs symphonia knows of but this build does not decode.
fn codec_name(c: AudioCodecId) -> String {
    if let Some(d) = symphonia::default::get_codecs().get_audio_decoder(c) {
        return d.codec.info.short_name.to_string();
    }
    let known = [
        (codecs::CODEC_ID_OPUS, "Opus"),
        (codecs::CODEC_ID_AAC, "AAC"),
        (codecs::CODEC_ID_ALAC, "ALAC"),
        (codecs::CODEC_ID_WMA, "WMA"),
        (codecs::CODEC_ID_SPEEX, "Speex"),
        (codecs::CODEC_ID_MP1, "MPEG Layer I"),
        (codecs::CODEC_ID_MP2, "MPEG Layer II"),
        (codecs::CODEC_ID_EAC3, "E-AC-3"),
        (codecs::CODEC_ID_WAVPACK, "WavPack"),
        (codecs::CODEC_ID_ADPCM_MS, "MS ADPCM"),
        (codecs::CODEC_ID_ADPCM_IMA_WAV, "IMA ADPCM"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == c)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("{c}"))
}

/// An open audio file, decoded packet by packet into f32 samples
/// (interleaved for playback, per channel for measuring), with the encoder
/// delay and padding trimmed. Shared by measuring and playback.
pub struct Decoder {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    /// The track's sample rate, in Hz.
    pub sample_rate: u32,
    /// Channels per frame; 0 until the first packet when the header does not
    /// say.
    pub channels: u16,
    /// The codec's short name, as symphonia gives it ("mp3", "flac"...).
    pub codec: String,
    /// Packets the codec could not decode (skipped).
    pub decode_errors: u32,
    /// Frames decoded before the first packet that could not be: where
    /// the damage starts.
    pub first_error_at: Option<u64>,
    /// Times the container's packet timestamps jumped ahead (FLAC frames
    /// number their samples: a lost stretch shows), and the frames decoded
    /// before the first jump.
    pub skips: u32,
    /// Frames decoded before the first jump; None when there was none.
    pub first_skip_at: Option<u64>,
    /// Where the next packet should start, in the track's time base.
    next_ts: Option<i64>,
    /// Frames (samples per channel) decoded so far, without the trimmed
    /// encoder delay and padding.
    pub frames: u64,
    /// Frames the codec decoded but that were trimmed as the encoder's
    /// delay and padding (an MP3's LAME header declares both). `frames` +
    /// `trimmed` is what a decoder that does not trim would hand out.
    pub trimmed: u64,
    /// Frames the container's header announces, without the encoder delay
    /// and padding (a WAV's data size, a FLAC's STREAMINFO, an MP3's
    /// Xing/LAME header or else a guess from its bitrate).
    pub announced_frames: Option<u64>,
    /// The codec or demuxer panicked on this file: it is not used again.
    crashed: Option<String>,
}

impl Decoder {
    /// Opens and identifies the file; fails when it is empty, not audio, or
    /// in a codec this build cannot decode.
    pub fn open(media: &MediaPath) -> Result<Decoder, ProbeError> {
        let file = media.open().map_err(ProbeError::from)?;
        let len = file
            .metadata()
            .map_err(|e| ProbeError::Io(e.to_string()))?
            .len();
        if len == 0 {
            return Err(ProbeError::Empty);
        }
        check_header(&file)?;
        Decoder::from_source(Box::new(file), media.extension().as_deref())
    }

    /// As [`Decoder::identify`], with a panic in the demuxer or codec (a
    /// malformed header) turned into an error for this file alone.
    pub(crate) fn from_source(
        source: Box<dyn MediaSource>,
        ext: Option<&str>,
    ) -> Result<Decoder, ProbeError> {
        crate::contain::contained(|| Decoder::identify(source, ext))
            .unwrap_or_else(|panic| Err(ProbeError::Crashed(panic)))
    }

    /// Identifies the audio read from `source`; `ext` (the file's
    /// extension) is only a hint.
    fn identify(source: Box<dyn MediaSource>, ext: Option<&str>) -> Result<Decoder, ProbeError> {
        let mss = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = ext {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::IoError(io) if io.kind() != std::io::ErrorKind::UnexpectedEof => {
                    ProbeError::Io(io.to_string())
                }
                _ => ProbeError::NotAudio,
            })?;
        let (track_id, params, announced_frames) = format
            .tracks()
            .iter()
            .find_map(|t| {
                let audio = t.codec_params.as_ref()?.audio()?;
                (audio.codec != symphonia::core::codecs::audio::CODEC_ID_NULL_AUDIO)
                    .then(|| (t.id, audio.clone(), t.num_frames))
            })
            .ok_or(ProbeError::NotAudio)?;
        let codec = codec_name(params.codec);
        // Gapless: the codec trims the delay and padding each packet
        // declares (the default in symphonia 0.6, asked for all the same).
        let options = AudioDecoderOptions::default().gapless(true);
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &options)
            .map_err(|_| ProbeError::Unsupported(codec.clone()))?;
        let sample_rate = params.sample_rate.ok_or(ProbeError::NotAudio)?;
        let channels = params.channels.map(|c| c.count() as u16).unwrap_or(0);
        Ok(Decoder {
            format,
            decoder,
            track_id,
            sample_rate,
            channels,
            codec,
            decode_errors: 0,
            first_error_at: None,
            skips: 0,
            first_skip_at: None,
            next_ts: None,
            frames: 0,
            trimmed: 0,
            announced_frames,
            crashed: None,
        })
    }

    /// Decodes the next packet that holds samples; they stay in the codec
    /// until read. Returns Ok(false) at the end of the stream. A packet the
    /// codec rejects is skipped and counted in `decode_errors`.
    pub(super) fn advance(&mut self) -> Result<bool, ProbeError> {
        if let Some(why) = &self.crashed {
            return Err(ProbeError::Crashed(why.clone()));
        }
        match crate::contain::contained(|| self.advance_inner()) {
            Ok(r) => r,
            Err(why) => {
                self.crashed = Some(why.clone());
                Err(ProbeError::Crashed(why))
            }
        }
    }

    fn advance_inner(&mut self) -> Result<bool, ProbeError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) | Err(SymError::ResetRequired) => return Ok(false),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(SymError::IoError(e)) => return Err(ProbeError::Io(e.to_string())),
                Err(e) => return Err(ProbeError::Corrupt(e.to_string())),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            // The packet spans its decoded frames, trimmed ones included.
            let (pts, span) = (packet.pts.get(), packet.block_dur().get());
            if self.next_ts.is_some_and(|next| pts > next) {
                self.skips += 1;
                self.first_skip_at.get_or_insert(self.frames);
            }
            self.next_ts = Some(pts.saturating_add(i64::try_from(span).unwrap_or(i64::MAX)));
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(_)) => {
                    self.decode_errors += 1;
                    self.first_error_at.get_or_insert(self.frames);
                    continue;
                }
                Err(SymError::Unsupported(what)) => {
                    return Err(ProbeError::Unsupported(format!("{} ({what})", self.codec)));
                }
                Err(SymError::IoError(e)) => return Err(ProbeError::Io(e.to_string())),
                Err(e) => return Err(ProbeError::Corrupt(e.to_string())),
            };
            let ch = decoded.spec().channels().count() as u16;
            let frames = decoded.frames();
            if self.channels == 0 {
                self.channels = ch;
            }
            if ch != self.channels || ch == 0 {
                return Err(ProbeError::Corrupt(format!(
                    "the number of channels changes from {} to {ch}",
                    self.channels
                )));
            }
            self.trimmed += packet.trim_start.get() + packet.trim_end.get();
            if frames == 0 {
                continue;
            }
            self.frames += frames as u64;
            return Ok(true);
        }
    }

    /// Decodes the next packet and appends its samples (interleaved) to
    /// `out`. Returns Ok(false) at the end of the stream. A packet the codec
    /// rejects is skipped and counted in `decode_errors`.
    pub fn next_into(&mut self, out: &mut Vec<f32>) -> Result<bool, ProbeError> {
        if !self.advance()? {
            return Ok(false);
        }
        let decoded = self.decoder.last_decoded();
        let at = out.len();
        out.resize(at + decoded.samples_interleaved(), 0.0);
        decoded.copy_to_slice_interleaved(&mut out[at..]);
        Ok(true)
    }

    /// Appends the last decoded packet's samples to one vector per channel
    /// (`planes` holds one per channel).
    pub(super) fn append_planar(&mut self, planes: &mut [Vec<f32>]) {
        let decoded = self.decoder.last_decoded();
        let frames = decoded.frames();
        let mut dst: Vec<&mut [f32]> = planes
            .iter_mut()
            .map(|plane| {
                let at = plane.len();
                plane.resize(at + frames, 0.0);
                &mut plane[at..]
            })
            .collect();
        decoded.copy_to_slice_planar(&mut dst);
    }
}

/// Refuses a file whose container header is impossible (a rate of 0, no
/// channels...) before a decoder sees it (see `header`).
pub(super) fn check_header(file: &File) -> Result<(), ProbeError> {
    use std::os::unix::fs::FileExt;
    let mut head = vec![0u8; super::header::LOOK_AT];
    let mut got = 0;
    while got < head.len() {
        match file.read_at(&mut head[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ProbeError::Io(e.to_string())),
        }
    }
    super::header::check(&head[..got]).map_err(ProbeError::Crashed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::test_audio::{encoders, full_tone_wav, run};

    /// Every frame of a file, interleaved.
    fn decode_all(dec: &mut Decoder) -> Vec<f32> {
        let mut out = Vec::new();
        while dec.next_into(&mut out).unwrap() {}
        out
    }

    // Issue 13: lame adds about 1,100 samples of delay before a tone and
    // pads its end; the decoder trims both as the LAME header declares, so
    // a 2.000 s tone decodes to 2.000 s whose first samples are the tone.
    #[test]
    fn a_lame_tone_decodes_gapless() {
        if !encoders() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        for rate in [44_100u32, 48_000, 22_050] {
            let wav = full_tone_wav(dir.path(), &format!("tone-{rate}.wav"), 2.0, rate);
            let mp3 = dir.path().join(format!("tone-{rate}.mp3"));
            let (w, m) = (wav.to_str().unwrap(), mp3.to_str().unwrap());
            run("lame", &["--quiet", "-b", "128", w, m]);
            let mut dec = Decoder::open(&MediaPath::Given(mp3.clone())).unwrap();
            let samples = decode_all(&mut dec);
            let expected = 2 * u64::from(rate);
            let ms = u64::from(rate) / 1000;
            assert_eq!(samples.len() as u64, dec.frames, "{rate} Hz");
            assert!(
                dec.frames.abs_diff(expected) <= ms,
                "{rate} Hz: {} frames decoded for a 2 s tone of {expected}",
                dec.frames
            );
            // The header's count is the gapless one too.
            assert!(
                dec.announced_frames
                    .is_some_and(|a| a.abs_diff(expected) <= ms),
                "{rate} Hz: {:?} announced",
                dec.announced_frames
            );
            // lame's delay (576 + the decoder's 529) and its padding were
            // decoded and trimmed.
            assert!(dec.trimmed >= 1105, "{rate} Hz: {} trimmed", dec.trimmed);
            // The first millisecond kept is the tone at full level, not the
            // encoder's near-silent priming; so is the last.
            let peak = |s: &[f32]| s.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let (first, last) = (
                peak(&samples[..ms as usize]),
                peak(&samples[samples.len() - ms as usize..]),
            );
            assert!(first > 0.7, "{rate} Hz: the first ms peaks at {first}");
            assert!(last > 0.7, "{rate} Hz: the last ms peaks at {last}");
            assert!(
                samples[0].abs() > 0.5,
                "{rate} Hz: first sample {}",
                samples[0]
            );
        }
        // Without a LAME header (`lame -t`) nothing declares the delay and
        // padding: every decoded frame is kept, and the count symphonia
        // announces (a guess from the bitrate) is of them all.
        let wav = full_tone_wav(dir.path(), "bare.wav", 2.0, 44_100);
        let mp3 = dir.path().join("bare.mp3");
        let (w, m) = (wav.to_str().unwrap(), mp3.to_str().unwrap());
        run("lame", &["--quiet", "-t", "-b", "128", w, m]);
        let mut dec = Decoder::open(&MediaPath::Given(mp3)).unwrap();
        decode_all(&mut dec);
        assert_eq!(dec.trimmed, 0);
        assert_eq!(dec.frames % 1152, 0, "{} frames", dec.frames);
        assert!(dec.frames > 88_200 + 1105, "{} frames", dec.frames);
        assert_eq!(dec.announced_frames, Some(dec.frames));
    }
}
