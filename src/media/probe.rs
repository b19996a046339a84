//! Decoding audio files with symphonia, and probing one: what it is (codec,
//! rate, channels), how long it plays, its loudness (EBU R128) and true peak.
//! Probing decodes the whole file once, and hashes its bytes (SHA-256, for
//! the as-run log: which exact recording aired); the media index keeps the
//! result.
//! It does not judge cut-off uploads; that is ingest's job.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use ebur128::{EbuR128, Mode};
use sha2::{Digest, Sha256};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{self, CodecType, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::lang::Lang;
use crate::tr;

/// The facts about a file that plays.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub duration: Duration,
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// EBU R128 integrated loudness; None for silence.
    pub loudness_lufs: Option<f64>,
    /// The highest true peak over all channels, in dBFS; None for silence.
    pub true_peak_db: Option<f64>,
    /// Packets that could not be decoded and were skipped.
    pub decode_errors: u32,
    /// SHA-256 of the file's bytes, lowercase hex: the as-run log records it
    /// so that a report can prove which recording aired, even after the
    /// file was replaced under the same name. None only in an index row
    /// written before hashes were kept.
    pub sha256: Option<String>,
}

/// Why a file cannot be aired.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("the file is empty (0 bytes)")]
    Empty,
    #[error("not an audio file")]
    NotAudio,
    #[error("unsupported codec {0}")]
    Unsupported(String),
    #[error("damaged: {0}")]
    Corrupt(String),
    #[error("cannot read: {0}")]
    Io(String),
}

impl ProbeError {
    /// A short code stored in the media index.
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeError::Empty => "empty",
            ProbeError::NotAudio => "not-audio",
            ProbeError::Unsupported(_) => "unsupported",
            ProbeError::Corrupt(_) => "corrupt",
            ProbeError::Io(_) => "io",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            ProbeError::Unsupported(s) | ProbeError::Corrupt(s) | ProbeError::Io(s) => s,
            _ => "",
        }
    }

    /// Rebuilds an error from the index's kind and detail.
    pub fn from_parts(kind: &str, detail: &str) -> ProbeError {
        match kind {
            "empty" => ProbeError::Empty,
            "not-audio" => ProbeError::NotAudio,
            "unsupported" => ProbeError::Unsupported(detail.into()),
            "io" => ProbeError::Io(detail.into()),
            _ => ProbeError::Corrupt(detail.into()),
        }
    }

    /// What is wrong and what to do, for the operator.
    pub fn message(&self, name: &str, lang: Lang) -> String {
        match self {
            ProbeError::Empty => tr!(
                lang,
                "tệp \"{name}\" rỗng (0 byte), có lẽ việc tải lên bị hỏng; hãy tải tệp lên lại",
                "the file \"{name}\" is empty (0 bytes), probably a failed upload; upload it again"
            ),
            ProbeError::NotAudio => tr!(
                lang,
                "tệp \"{name}\" không phải là tệp âm thanh (hoặc đã hỏng hoàn toàn); hãy xuất lại thành MP3 và tải lên lại",
                "the file \"{name}\" is not an audio file (or is completely damaged); export it again as MP3 and upload it again"
            ),
            ProbeError::Unsupported(codec) => tr!(
                lang,
                "tệp \"{name}\" dùng định dạng {codec}, loa không phát được; hãy chuyển sang MP3, WAV, FLAC hoặc OGG Vorbis (ví dụ bằng Audacity hoặc ffmpeg) rồi tải lên lại",
                "the file \"{name}\" uses the {codec} format, which loa cannot play; convert it to MP3, WAV, FLAC or OGG Vorbis (e.g. with Audacity or ffmpeg) and upload it again"
            ),
            ProbeError::Corrupt(detail) => tr!(
                lang,
                "tệp \"{name}\" bị hỏng, không giải mã được ({detail}); hãy tải tệp lên lại",
                "the file \"{name}\" is damaged and cannot be decoded ({detail}); upload it again"
            ),
            ProbeError::Io(detail) => tr!(
                lang,
                "không đọc được tệp \"{name}\" ({detail}); hãy kiểm tra quyền truy cập tệp",
                "cannot read the file \"{name}\" ({detail}); check the file's permissions"
            ),
        }
    }
}

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

/// An open audio file, decoded packet by packet into interleaved f32
/// samples. Shared by probing (which measures) and playback (which plays).
pub struct Decoder {
    format: Box<dyn symphonia::core::formats::FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    track_id: u32,
    pub sample_rate: u32,
    pub channels: u16,
    pub codec: String,
    /// Packets the codec could not decode (skipped).
    pub decode_errors: u32,
    /// Frames (samples per channel) decoded so far.
    pub frames: u64,
    buf: Option<SampleBuffer<f32>>,
}

impl Decoder {
    /// Opens and identifies the file; fails when it is empty, not audio, or
    /// in a codec this build cannot decode.
    pub fn open(path: &Path) -> Result<Decoder, ProbeError> {
        let file = File::open(path).map_err(|e| ProbeError::Io(e.to_string()))?;
        let len = file
            .metadata()
            .map_err(|e| ProbeError::Io(e.to_string()))?
            .len();
        if len == 0 {
            return Err(ProbeError::Empty);
        }
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(&ext.to_ascii_lowercase());
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
            frames: 0,
            buf: None,
        })
    }

    /// Decodes the next packet and appends its samples (interleaved) to
    /// `out`. Returns Ok(false) at the end of the stream. A packet the codec
    /// rejects is skipped and counted in `decode_errors`.
    pub fn next_into(&mut self, out: &mut Vec<f32>) -> Result<bool, ProbeError> {
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
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(_)) => {
                    self.decode_errors += 1;
                    continue;
                }
                Err(SymError::Unsupported(what)) => {
                    return Err(ProbeError::Unsupported(format!("{} ({what})", self.codec)));
                }
                Err(SymError::IoError(e)) => return Err(ProbeError::Io(e.to_string())),
                Err(e) => return Err(ProbeError::Corrupt(e.to_string())),
            };
            let spec = *decoded.spec();
            let ch = spec.channels.count() as u16;
            if self.channels == 0 {
                self.channels = ch;
            }
            if ch != self.channels || ch == 0 {
                return Err(ProbeError::Corrupt(format!(
                    "the number of channels changes from {} to {ch}",
                    self.channels
                )));
            }
            let frames = decoded.frames();
            if frames == 0 {
                continue;
            }
            let buf = match &mut self.buf {
                Some(b) if b.capacity() >= frames => b,
                slot => slot.insert(SampleBuffer::new(frames as u64, spec)),
            };
            buf.copy_interleaved_ref(decoded);
            out.extend_from_slice(buf.samples());
            self.frames += frames as u64;
            return Ok(true);
        }
    }
}

/// Decodes the whole file: its length, loudness and true peak. A file that
/// does not decode at all is an error; skipped packets are counted.
pub fn probe(path: &Path) -> Result<Probe, ProbeError> {
    let mut dec = Decoder::open(path)?;
    let mut chunk = Vec::with_capacity(8192);
    let mut meter: Option<EbuR128> = None;
    loop {
        chunk.clear();
        if !dec.next_into(&mut chunk)? {
            break;
        }
        let m = match &mut meter {
            Some(m) => m,
            None => meter.insert(
                EbuR128::new(
                    dec.channels as u32,
                    dec.sample_rate,
                    Mode::I | Mode::TRUE_PEAK,
                )
                .map_err(|e| ProbeError::Corrupt(e.to_string()))?,
            ),
        };
        let _ = m.add_frames_f32(&chunk);
    }
    if dec.frames == 0 {
        return Err(if dec.decode_errors > 0 {
            ProbeError::Corrupt(format!(
                "{} packets could not be decoded",
                dec.decode_errors
            ))
        } else {
            ProbeError::NotAudio
        });
    }
    let (loudness_lufs, true_peak_db) = match &meter {
        Some(m) => {
            let l = m.loudness_global().ok().filter(|l| l.is_finite());
            let peak = (0..dec.channels as u32)
                .filter_map(|c| m.true_peak(c).ok())
                .fold(0.0f64, f64::max);
            let p = (peak > 0.0).then(|| 20.0 * peak.log10());
            (l, p)
        }
        None => (None, None),
    };
    let duration = Duration::from_millis(dec.frames * 1000 / dec.sample_rate as u64);
    let sha256 = sha256_file(path).map_err(|e| ProbeError::Io(e.to_string()))?;
    Ok(Probe {
        duration,
        codec: dec.codec,
        sample_rate: dec.sample_rate,
        channels: dec.channels,
        loudness_lufs,
        true_peak_db,
        decode_errors: dec.decode_errors,
        sha256: Some(sha256),
    })
}

/// The SHA-256 of a file's bytes as lowercase hex, read 64 KiB at a time.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_lowercase_hex_of_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("abc");
        std::fs::write(&f, b"abc").unwrap();
        assert_eq!(
            sha256_file(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Longer than one 64 KiB read.
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 200_000]).unwrap();
        let mut h = Sha256::new();
        h.update(vec![b'a'; 200_000]);
        let expected: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sha256_file(&big).unwrap(), expected);
    }

    #[test]
    fn probing_a_sample_gives_its_hash() {
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/nhac-hieu.mp3");
        let p = probe(&f).unwrap();
        assert_eq!(p.sha256, Some(sha256_file(&f).unwrap()));
        assert_eq!(p.sha256.as_deref().map(str::len), Some(64));
    }
}
