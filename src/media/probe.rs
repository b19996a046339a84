//! Probing one audio file with symphonia: what it is (codec, rate, channels),
//! how long it plays, and whether it can be decoded at all. It reads the whole
//! container (cheap: packets are counted, not decoded) and decodes the first
//! packets to prove the codec works. It does not judge loudness or cut-off
//! uploads; that is ingest's job.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

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

/// How many packets are decoded to prove the codec works.
const DECODE_CHECK_PACKETS: usize = 8;

/// Probes the file at `path`.
pub fn probe(path: &Path) -> Result<Probe, ProbeError> {
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
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != codecs::CODEC_TYPE_NULL)
        .ok_or(ProbeError::NotAudio)?;
    let params = track.codec_params.clone();
    let track_id = track.id;
    let codec = codec_name(params.codec);
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|_| ProbeError::Unsupported(codec.clone()))?;
    let sample_rate = params.sample_rate.ok_or(ProbeError::NotAudio)?;
    let mut channels = params.channels.map(|c| c.count() as u16).unwrap_or(0);

    let mut frames: u64 = 0;
    let mut packets = 0usize;
    let mut decoded_ok = 0usize;
    let mut decode_errors = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(SymError::IoError(e)) => return Err(ProbeError::Io(e.to_string())),
            Err(e) => return Err(ProbeError::Corrupt(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        packets += 1;
        frames += packet.dur;
        if packets <= DECODE_CHECK_PACKETS {
            match decoder.decode(&packet) {
                Ok(buf) => {
                    decoded_ok += 1;
                    if channels == 0 {
                        channels = buf.spec().channels.count() as u16;
                    }
                }
                Err(SymError::DecodeError(_)) => decode_errors += 1,
                Err(SymError::Unsupported(what)) => {
                    return Err(ProbeError::Unsupported(format!("{codec} ({what})")));
                }
                Err(e) => return Err(ProbeError::Corrupt(e.to_string())),
            }
        }
    }
    if packets == 0 || frames == 0 {
        return Err(ProbeError::NotAudio);
    }
    if decoded_ok == 0 {
        return Err(ProbeError::Corrupt(format!(
            "{decode_errors} decode errors in the first packets"
        )));
    }
    let duration = match params.time_base {
        Some(tb) => {
            let t = tb.calc_time(frames);
            Duration::from_secs(t.seconds) + Duration::from_secs_f64(t.frac)
        }
        None => Duration::from_secs_f64(frames as f64 / sample_rate as f64),
    };
    // Plans work to the millisecond.
    let duration = Duration::from_millis(duration.as_millis() as u64);
    Ok(Probe {
        duration,
        codec,
        sample_rate,
        channels,
    })
}
