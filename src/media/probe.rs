//! What probing a file says: its facts when it plays ([`Probe`]: codec,
//! rate, channels, length, loudness, hash), or why it cannot be aired
//! ([`ProbeError`]), with what the operator is told. It holds neither the
//! decoding (decode.rs) nor the measuring pass (measure.rs, whose `probe`
//! fills a [`Probe`]), and judges nothing: validate.rs does.

use std::time::Duration;

use super::folder::OpenError;
use super::rejection::{RejectKind, Rejection};
use crate::lang::Lang;
use crate::tr;

/// The facts about a file that plays.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// How long it plays, rounded down to the millisecond.
    pub duration: Duration,
    /// The codec's short name, as symphonia gives it ("mp3", "flac"...).
    pub codec: String,
    /// Its sample rate, in Hz.
    pub sample_rate: u32,
    /// Its number of channels.
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
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// The file has no bytes at all.
    #[error("the file is empty (0 bytes)")]
    Empty,
    /// No decoder recognises it (no audio track, or no sample rate).
    #[error("not an audio file")]
    NotAudio,
    /// A codec this build does not decode; its name.
    #[error("unsupported codec {0}")]
    Unsupported(String),
    /// Decoding failed part way (a damaged stream, the channel count
    /// changing); what the decoder said.
    #[error("damaged: {0}")]
    Corrupt(String),
    /// The file could not be read; the system's error.
    #[error("cannot read: {0}")]
    Io(String),
    /// A link, a pipe, a device or a folder where a file was expected:
    /// never opened (see `media::folder`).
    #[error("not a regular file: {0}")]
    NotAFile(String),
    /// The decoder gave up on the file in a way it should not (a panic in
    /// the codec or demuxer, contained): the file is malformed.
    #[error("the decoder failed on this file: {0}")]
    Crashed(String),
    /// The file decodes, but validation refused it (cut off, damaged,
    /// silent...): the media index answers this for a file it has judged, so
    /// that planning never airs it.
    #[error("rejected: {0}")]
    Rejected(Box<Rejection>),
}

impl From<OpenError> for ProbeError {
    fn from(e: OpenError) -> ProbeError {
        match e {
            OpenError::Io(io) => ProbeError::Io(io.to_string()),
            other => ProbeError::NotAFile(other.code()),
        }
    }
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
            ProbeError::Crashed(_) => "crashed",
            ProbeError::NotAFile(_) => "not-a-file",
            ProbeError::Rejected(_) => "rejected",
        }
    }

    /// The detail stored beside the kind; for a rejection, its code (the
    /// index keeps the whole rejection in its `verdict` column).
    pub fn detail(&self) -> &str {
        match self {
            ProbeError::Unsupported(s)
            | ProbeError::Corrupt(s)
            | ProbeError::Io(s)
            | ProbeError::Crashed(s)
            | ProbeError::NotAFile(s) => s,
            ProbeError::Rejected(r) => r.code(),
            _ => "",
        }
    }

    /// Rebuilds an error from the index's kind and detail. A rejection
    /// cannot be rebuilt from these two alone (see `MediaIndex::lookup`).
    pub fn from_parts(kind: &str, detail: &str) -> ProbeError {
        match kind {
            "empty" => ProbeError::Empty,
            "not-audio" => ProbeError::NotAudio,
            "unsupported" => ProbeError::Unsupported(detail.into()),
            "io" => ProbeError::Io(detail.into()),
            "crashed" => ProbeError::Crashed(detail.into()),
            "not-a-file" => ProbeError::NotAFile(detail.into()),
            _ => ProbeError::Corrupt(detail.into()),
        }
    }

    /// What is wrong and what to do, for the operator.
    pub fn message(&self, name: &str, lang: Lang) -> String {
        match self {
            ProbeError::Empty => tr!(
                lang,
                "Tệp \"{name}\" rỗng (0 byte): có lẽ việc tải lên bị lỗi; hãy tải lại.",
                "the file \"{name}\" is empty (0 bytes), probably a failed upload; upload it again"
            ),
            ProbeError::NotAudio => tr!(
                lang,
                "Tệp \"{name}\" không phải là tệp âm thanh, hoặc đã hỏng hoàn toàn; hãy xuất lại thành MP3 rồi tải lên lại.",
                "the file \"{name}\" is not an audio file (or is completely damaged); export it again as MP3 and upload it again"
            ),
            ProbeError::Unsupported(codec) => tr!(
                lang,
                "Tệp \"{name}\" dùng định dạng {codec}, loa không phát được; hãy chuyển sang MP3, WAV, FLAC hoặc OGG Vorbis (ví dụ bằng Audacity hoặc ffmpeg) rồi tải lên lại.",
                "the file \"{name}\" uses the {codec} format, which loa cannot play; convert it to MP3, WAV, FLAC or OGG Vorbis (e.g. with Audacity or ffmpeg) and upload it again"
            ),
            ProbeError::Corrupt(detail) => tr!(
                lang,
                "Tệp \"{name}\" bị hỏng, không giải mã được ({detail}); hãy tải lại.",
                "the file \"{name}\" is damaged and cannot be decoded ({detail}); upload it again"
            ),
            ProbeError::Io(detail) => tr!(
                lang,
                "Không đọc được tệp \"{name}\" ({detail}); hãy kiểm tra quyền truy cập của tệp.",
                "cannot read the file \"{name}\" ({detail}); check the file's permissions"
            ),
            ProbeError::NotAFile(code) => {
                let what = super::folder::words(code, lang);
                tr!(
                    lang,
                    "\"{name}\" không phải là tệp thông thường ({what}) nên loa không mở. Hãy tải lên chính tệp âm thanh.",
                    "\"{name}\" is not an ordinary file ({what}); loa does not open it. Upload the audio file itself"
                )
            }
            ProbeError::Crashed(_) => tr!(
                lang,
                "Tệp \"{name}\" bị hỏng ở phần đầu (thông tin định dạng sai) nên không giải mã được; hãy xuất lại thành MP3 rồi tải lên lại.",
                "the file \"{name}\" is damaged in its header (its format information is wrong) and the decoder cannot read it; export it again as MP3 and upload it again"
            ),
            ProbeError::Rejected(r) => r.message(name, lang),
        }
    }
}

/// The rejection for a file that could not be measured at all (validation
/// answers this when the measuring pass fails).
impl From<ProbeError> for Rejection {
    fn from(e: ProbeError) -> Rejection {
        Rejection::new(match e {
            ProbeError::Empty => RejectKind::Empty,
            ProbeError::NotAudio => RejectKind::NotAudio,
            ProbeError::Unsupported(codec) => RejectKind::Unsupported { codec },
            // Nothing decoded at all.
            ProbeError::Corrupt(_) => RejectKind::Damaged {
                decode_errors: 0,
                gaps: 0,
                at: None,
            },
            ProbeError::Io(detail) => RejectKind::Unreadable { detail },
            ProbeError::Crashed(detail) => RejectKind::BadHeader { detail },
            ProbeError::NotAFile(detail) => RejectKind::NotAFile { detail },
            ProbeError::Rejected(r) => return *r,
        })
    }
}
