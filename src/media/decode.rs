//! Decoding one audio file with symphonia, packet by packet, into f32
//! samples: interleaved for playback, one vector per channel for the
//! measuring pass. A file whose container header is impossible is refused
//! before symphonia sees it (see `header`), and a panic in a codec or
//! demuxer is contained to the file (see `contain`). It counts what it meets
//! on the way (packets it could not decode, jumps in the timestamps) but
//! does not measure, hash or judge the file: measure.rs and validate.rs do.

use std::fs::File;

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, SampleBuffer, Signal};
use symphonia::core::codecs::{self, CodecType, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::folder::MediaPath;
use super::probe::ProbeError;

/// Names for codecs symphonia knows of but this build does not decode.
fn codec_name(c: CodecType) -> String {
    if let Some(d) = symphonia::default::get_codecs().get_codec(c) {
        return d.short_name.to_string();
    }
    let known = [
        (codecs::CODEC_TYPE_OPUS, "Opus"),
        (codecs::CODEC_TYPE_AAC, "AAC"),
        (codecs::CODEC_TYPE_ALAC, "ALAC"),
        (codecs::CODEC_TYPE_WMA, "WMA"),
        (codecs::CODEC_TYPE_SPEEX, "Speex"),
        (codecs::CODEC_TYPE_MP1, "MPEG Layer I"),
        (codecs::CODEC_TYPE_MP2, "MPEG Layer II"),
        (codecs::CODEC_TYPE_EAC3, "E-AC-3"),
        (codecs::CODEC_TYPE_WAVPACK, "WavPack"),
        (codecs::CODEC_TYPE_ADPCM_MS, "MS ADPCM"),
        (codecs::CODEC_TYPE_ADPCM_IMA_WAV, "IMA ADPCM"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == c)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("{c}"))
}

/// An open audio file, decoded packet by packet into f32 samples
/// (interleaved for playback, per channel for measuring). Shared by
/// measuring and playback.
pub struct Decoder {
    format: Box<dyn symphonia::core::formats::FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
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
    next_ts: Option<u64>,
    /// Frames (samples per channel) decoded so far.
    pub frames: u64,
    /// Frames the container's header announces (a WAV's data size, a FLAC's
    /// STREAMINFO, an MP3's Xing header or else a guess from its bitrate).
    pub announced_frames: Option<u64>,
    /// Reused buffers: interleaving for `next_into`, conversion to f32 for
    /// `append_planar`.
    buf: Option<SampleBuffer<f32>>,
    planar: Option<AudioBuffer<f32>>,
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
    pub(super) fn from_source(
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
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                mss,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::IoError(io) if io.kind() != std::io::ErrorKind::UnexpectedEof => {
                    ProbeError::Io(io.to_string())
                }
                _ => ProbeError::NotAudio,
            })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != codecs::CODEC_TYPE_NULL)
            .ok_or(ProbeError::NotAudio)?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        let codec = codec_name(params.codec);
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
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
            announced_frames: params.n_frames,
            buf: None,
            planar: None,
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
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(SymError::ResetRequired) => return Ok(false),
                Err(SymError::IoError(e)) => return Err(ProbeError::Io(e.to_string())),
                Err(e) => return Err(ProbeError::Corrupt(e.to_string())),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            if self.next_ts.is_some_and(|next| packet.ts() > next) {
                self.skips += 1;
                self.first_skip_at.get_or_insert(self.frames);
            }
            self.next_ts = Some(packet.ts() + packet.dur());
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
            let ch = decoded.spec().channels.count() as u16;
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
        // Packets vary in length (a Vorbis packet is short or long): the
        // buffer, counted in samples of all channels, must hold this one.
        let samples = decoded.frames() * decoded.spec().channels.count();
        let buf = match &mut self.buf {
            Some(b) if b.capacity() >= samples => b,
            slot => slot.insert(SampleBuffer::new(
                decoded.capacity() as u64,
                *decoded.spec(),
            )),
        };
        buf.copy_interleaved_ref(decoded);
        out.extend_from_slice(buf.samples());
        Ok(true)
    }

    /// Appends the last decoded packet's samples to one vector per channel.
    pub(super) fn append_planar(&mut self, planes: &mut [Vec<f32>]) {
        let decoded = self.decoder.last_decoded();
        let buf = match decoded {
            // MP3 and Vorbis decode to f32 already: no conversion.
            AudioBufferRef::F32(b) => {
                for (c, plane) in planes.iter_mut().enumerate() {
                    plane.extend_from_slice(b.chan(c));
                }
                return;
            }
            other => {
                let buf = match &mut self.planar {
                    Some(b) if b.capacity() >= other.capacity() && b.spec() == other.spec() => b,
                    slot => slot.insert(other.make_equivalent::<f32>()),
                };
                other.convert(buf);
                buf
            }
        };
        for (c, plane) in planes.iter_mut().enumerate() {
            plane.extend_from_slice(buf.chan(c));
        }
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
