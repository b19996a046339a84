//! Why a file must not air: the kinds of rejection ([`RejectKind`]), their
//! stable codes and JSON (the media index and `loa media --json` keep them),
//! and what the operator is told, in their language: what is wrong and what
//! to do. Pure: it does not look at files nor decide what is rejected
//! (validation does, see `validate`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::{clock, human};
use crate::lang::Lang;
use crate::tr;

/// Shorter than this is an export gone wrong. (Validation's limits on
/// length live here because the messages for `TooShort` and `TooLong`
/// name them.)
pub const MIN_DURATION: Duration = Duration::from_millis(500);
/// Longer than this is not an announcement (and would hold the relay on).
pub const MAX_DURATION: Duration = Duration::from_secs(2 * 3600);

/// Why a file must not air, with what the operator's message needs. Stored
/// in the media index as JSON (`{"code":"truncated","decoded_ms":...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rejection {
    /// What is wrong.
    pub kind: RejectKind,
}

/// The kinds of rejection. Their codes (`Rejection::code`) are stable: the
/// JSON of `loa media` and the media index use them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum RejectKind {
    /// 0 bytes.
    Empty,
    /// Not an audio file at all (or damaged beyond recognition).
    NotAudio,
    /// Audio in a codec this build cannot decode.
    Unsupported {
        /// The codec's name.
        codec: String,
    },
    /// The end is missing. `announced` is what the file's header says,
    /// when it says (None: the last frame stops short).
    Truncated {
        /// How much decodes (JSON `decoded_ms`).
        #[serde(rename = "decoded_ms", with = "millis")]
        decoded: Duration,
        /// How long the header says it is (JSON `announced_ms`).
        #[serde(rename = "announced_ms", with = "opt_millis", default)]
        announced: Option<Duration>,
    },
    /// Part of the audio is missing or unreadable. `decode_errors` counts
    /// packets the codec refused; `gaps` stretches of an MP3 or Ogg that
    /// are not audio, Ogg pages with a bad checksum and jumps in a FLAC's
    /// sample numbers; `at` is where the first problem starts.
    Damaged {
        /// Packets the codec could not decode.
        decode_errors: u32,
        /// Stretches that are not audio, bad Ogg pages, jumps in a FLAC.
        gaps: u32,
        /// Where the first problem starts (JSON `at_ms`); None when not known.
        #[serde(rename = "at_ms", with = "opt_millis", default)]
        at: Option<Duration>,
    },
    /// Silent or nearly so.
    Silent {
        /// Its integrated loudness, in LUFS; None when too quiet to measure.
        loudness_lufs: Option<f64>,
        /// Its true peak, in dBFS; None when too quiet to measure.
        true_peak_db: Option<f64>,
    },
    /// Shorter than [`MIN_DURATION`].
    TooShort {
        /// How long it plays (JSON `duration_ms`).
        #[serde(rename = "duration_ms", with = "millis")]
        duration: Duration,
    },
    /// Longer than [`MAX_DURATION`].
    TooLong {
        /// How long it plays (JSON `duration_ms`).
        #[serde(rename = "duration_ms", with = "millis")]
        duration: Duration,
    },
    /// A sample rate outside those real recordings and encoders use
    /// (`validate::ACCEPTED_RATES`).
    UnusualRate {
        /// The file's sample rate, in Hz.
        rate: u32,
    },
    /// The file could not be read (permissions, I/O error).
    Unreadable {
        /// The system's error.
        detail: String,
    },
    /// A link, pipe, device or folder where a file was expected.
    NotAFile {
        /// What it is instead, as a code (`folder::OpenError::code`:
        /// "symlink", "fifo"...).
        detail: String,
    },
    /// Its header is malformed (a sample rate of 0, no channels, sizes
    /// that contradict each other), or the decoder broke down on it:
    /// `detail` says what, for the log.
    BadHeader {
        /// What is malformed, or how the decoder failed.
        detail: String,
    },
}

impl Rejection {
    /// A rejection of this kind.
    pub fn new(kind: RejectKind) -> Rejection {
        Rejection { kind }
    }

    /// A stable code for JSON and the index: "empty", "not-audio",
    /// "unsupported", "truncated", "damaged", "silent", "too-short",
    /// "too-long", "unusual-rate", "unreadable".
    pub fn code(&self) -> &'static str {
        match self.kind {
            RejectKind::Empty => "empty",
            RejectKind::NotAudio => "not-audio",
            RejectKind::Unsupported { .. } => "unsupported",
            RejectKind::Truncated { .. } => "truncated",
            RejectKind::Damaged { .. } => "damaged",
            RejectKind::Silent { .. } => "silent",
            RejectKind::TooShort { .. } => "too-short",
            RejectKind::TooLong { .. } => "too-long",
            RejectKind::UnusualRate { .. } => "unusual-rate",
            RejectKind::Unreadable { .. } => "unreadable",
            RejectKind::BadHeader { .. } => "bad-header",
            RejectKind::NotAFile { .. } => "not-a-file",
        }
    }

    /// The whole message for the operator, naming the file: what is wrong,
    /// then what to do.
    pub fn message(&self, name: &str, lang: Lang) -> String {
        let (problem, advice) = (self.problem(lang), self.advice(lang));
        tr!(
            lang,
            "Tệp \"{name}\" {problem}; {advice}.",
            "the file \"{name}\" {problem}; {advice}"
        )
    }

    /// What is wrong, as what follows the file's name ("is cut off: ...").
    pub fn problem(&self, lang: Lang) -> String {
        match &self.kind {
            RejectKind::Empty => tr!(
                lang,
                "rỗng (0 byte): việc tải lên chưa bắt đầu hoặc đã bị lỗi",
                "is empty (0 bytes): the upload did not start or failed"
            ),
            RejectKind::NotAudio => tr!(
                lang,
                "không phải là tệp âm thanh, hoặc đã hỏng hoàn toàn",
                "is not an audio file (or is completely damaged)"
            ),
            RejectKind::Unsupported { codec } => tr!(
                lang,
                "dùng định dạng {codec}, loa không phát được",
                "uses the {codec} format, which loa cannot play"
            ),
            RejectKind::Truncated {
                decoded,
                announced: Some(announced),
            } => {
                let (d, a) = (human(*decoded, lang), human(*announced, lang));
                tr!(
                    lang,
                    "bị thiếu phần cuối: chỉ nghe được {d}, trong khi đầu tệp ghi dài {a}. Có thể việc tải lên bị ngắt giữa chừng",
                    "is cut off: it holds {d} of the {a} its header announces, probably because the upload did not finish"
                )
            }
            RejectKind::Truncated {
                decoded,
                announced: None,
            } => {
                let d = human(*decoded, lang);
                tr!(
                    lang,
                    "bị thiếu phần cuối: âm thanh dừng đột ngột sau {d}. Có thể việc tải lên bị ngắt giữa chừng",
                    "is cut off: its sound stops abruptly after {d} and the end of the file is missing, probably because the upload did not finish"
                )
            }
            RejectKind::Damaged { gaps, at, .. } => {
                let what = tr!(
                    lang,
                    "có đoạn dữ liệu âm thanh bị mất hoặc không đọc được, nên khi phát sẽ bị ngắt quãng hoặc rè",
                    "part of its audio data is missing or unreadable, so it would play with a gap or noise"
                );
                match at.map(clock) {
                    Some(t) if *gaps > 1 => tr!(
                        lang,
                        "bị hỏng {gaps} chỗ, chỗ đầu tiên ở {t} (phút:giây): {what}",
                        "is damaged in {gaps} places, the first at {t} (min:s): {what}"
                    ),
                    Some(t) => tr!(
                        lang,
                        "bị hỏng ở {t} (phút:giây): {what}",
                        "is damaged at {t} (min:s): {what}"
                    ),
                    None => tr!(lang, "bị hỏng: {what}", "is damaged: {what}"),
                }
            }
            RejectKind::Silent { loudness_lufs, .. } => {
                let level = match loudness_lufs {
                    Some(l) => tr!(lang, "độ to đo được {l:.0} LUFS", "loudness {l:.0} LUFS"),
                    None => tr!(
                        lang,
                        "không đo được độ to",
                        "no sound loud enough to measure"
                    ),
                };
                tr!(
                    lang,
                    "không có tiếng hoặc tiếng quá nhỏ ({level}). Có lẽ micrô bị tắt khi thu, hoặc đã xuất nhầm bản ghi",
                    "is silent or almost silent ({level}), perhaps the microphone was off or the wrong recording was exported"
                )
            }
            RejectKind::TooShort { duration } => {
                let (d, min) = (human(*duration, lang), human(MIN_DURATION, lang));
                tr!(
                    lang,
                    "quá ngắn ({d}, cần ít nhất {min}). Có lẽ việc thu âm hoặc xuất tệp bị lỗi",
                    "is too short ({d}; at least {min} is needed), perhaps the recording or the export went wrong"
                )
            }
            RejectKind::TooLong { duration } => {
                let d = human(*duration, lang);
                let hours = MAX_DURATION.as_secs() / 3600;
                tr!(
                    lang,
                    "quá dài ({d}, tối đa {hours} giờ)",
                    "is too long ({d}; at most {hours} h)"
                )
            }
            RejectKind::UnusualRate { rate } => tr!(
                lang,
                "có tần số lấy mẫu bất thường ({rate} Hz)",
                "has an unusual sample rate ({rate} Hz)"
            ),
            RejectKind::Unreadable { detail } => tr!(
                lang,
                "không đọc được ({detail})",
                "cannot be read ({detail})"
            ),
            RejectKind::NotAFile { detail } => {
                let what = super::folder::words(detail, lang);
                tr!(
                    lang,
                    "không phải là tệp thông thường ({what}) nên loa không mở",
                    "is not an ordinary file ({what}); loa does not open it"
                )
            }
            RejectKind::BadHeader { .. } => tr!(
                lang,
                "có phần đầu (thông tin định dạng) bị sai nên không giải mã được",
                "has a malformed header (its format information is wrong) and cannot be decoded"
            ),
        }
    }

    /// What to do about it.
    pub fn advice(&self, lang: Lang) -> String {
        match &self.kind {
            RejectKind::Empty | RejectKind::Truncated { .. } => {
                tr!(lang, "hãy tải lại", "upload it again")
            }
            RejectKind::NotAudio => tr!(
                lang,
                "hãy xuất lại thành MP3 rồi tải lên lại",
                "export it again as MP3 and upload it again"
            ),
            RejectKind::Unsupported { .. } => tr!(
                lang,
                "hãy chuyển sang MP3, WAV, FLAC hoặc OGG Vorbis (ví dụ bằng Audacity hoặc ffmpeg) rồi tải lên lại",
                "convert it to MP3, WAV, FLAC or OGG Vorbis (e.g. with Audacity or ffmpeg) and upload it again"
            ),
            RejectKind::Damaged { .. } => tr!(
                lang,
                "hãy tải lại từ bản gốc",
                "upload it again from the original"
            ),
            RejectKind::Silent { .. } => tr!(
                lang,
                "hãy nghe thử, thu âm hoặc xuất lại rồi tải lên lại",
                "listen to it, record or export it again, and upload it again"
            ),
            RejectKind::TooShort { .. } => tr!(
                lang,
                "hãy nghe lại bản ghi, xuất lại rồi tải lên lại",
                "check the recording and upload it again"
            ),
            RejectKind::TooLong { .. } => tr!(
                lang,
                "hãy chia thành các tệp ngắn hơn rồi tải lên",
                "split it into shorter files and upload those"
            ),
            RejectKind::UnusualRate { .. } => tr!(
                lang,
                "hãy xuất lại với tần số 44100 Hz hoặc 48000 Hz (ví dụ bằng Audacity) rồi tải lên lại",
                "export it again at 44100 Hz or 48000 Hz (e.g. with Audacity) and upload it again"
            ),
            RejectKind::Unreadable { .. } => tr!(
                lang,
                "hãy kiểm tra quyền truy cập của tệp rồi thử lại",
                "check the file's permissions and try again"
            ),
            RejectKind::NotAFile { .. } => tr!(
                lang,
                "hãy xóa nó và tải lên chính tệp âm thanh",
                "delete it and upload the audio file itself"
            ),
            RejectKind::BadHeader { .. } => tr!(
                lang,
                "hãy xuất lại thành MP3 rồi tải lên lại",
                "export it again as MP3 and upload it again"
            ),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the file {}", self.problem(Lang::En))
    }
}

/// Durations as whole milliseconds in JSON.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

mod opt_millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<u64>::deserialize(d).map(|ms| ms.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_rejections_round_trip_through_json() {
        let all = [
            RejectKind::Empty,
            RejectKind::NotAudio,
            RejectKind::Unsupported {
                codec: "Opus".into(),
            },
            RejectKind::Truncated {
                decoded: Duration::from_millis(72_000),
                announced: Some(Duration::from_secs(220)),
            },
            RejectKind::Truncated {
                decoded: Duration::from_millis(72_000),
                announced: None,
            },
            RejectKind::Damaged {
                decode_errors: 2,
                gaps: 3,
                at: Some(Duration::from_millis(5_250)),
            },
            RejectKind::Silent {
                loudness_lufs: Some(-71.5),
                true_peak_db: None,
            },
            RejectKind::TooShort {
                duration: Duration::from_millis(200),
            },
            RejectKind::TooLong {
                duration: Duration::from_secs(9000),
            },
            RejectKind::UnusualRate { rate: 37_800 },
            RejectKind::Unreadable {
                detail: "Permission denied (os error 13)".into(),
            },
        ];
        for kind in all {
            let r = Rejection::new(kind);
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(json["code"], r.code(), "{json}");
            assert_eq!(serde_json::from_value::<Rejection>(json).unwrap(), r);
            for lang in [Lang::Vi, Lang::En] {
                let m = r.message("a.mp3", lang);
                assert!(m.contains("\"a.mp3\"") && m.contains("; "), "{m}");
            }
        }
        let r = Rejection::new(RejectKind::Truncated {
            decoded: Duration::from_secs(72),
            announced: Some(Duration::from_secs(220)),
        });
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"code":"truncated","decoded_ms":72000,"announced_ms":220000}"#
        );
        // The issue's example.
        assert_eq!(
            r.message("ban-tin.mp3", Lang::Vi),
            "Tệp \"ban-tin.mp3\" bị thiếu phần cuối: chỉ nghe được 1 phút 12 giây, trong khi đầu \
             tệp ghi dài 3 phút 40 giây. Có thể việc tải lên bị ngắt giữa chừng; hãy tải lại."
        );
        let cut = Rejection::new(RejectKind::Truncated {
            decoded: Duration::from_secs(473),
            announced: Some(Duration::from_secs(1200)),
        });
        assert_eq!(
            cut.message("x.mp3", Lang::Vi),
            "Tệp \"x.mp3\" bị thiếu phần cuối: chỉ nghe được 7 phút 53 giây, trong khi đầu tệp \
             ghi dài 20 phút. Có thể việc tải lên bị ngắt giữa chừng; hãy tải lại."
        );
        assert_eq!(
            r.to_string(),
            "the file is cut off: it holds 1 min 12 s of the 3 min 40 s its header announces, \
             probably because the upload did not finish"
        );
    }
}
