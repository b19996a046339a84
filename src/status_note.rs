//! `TINH-TRANG.txt`, the status note at the top of the audio folder, for
//! people who can only upload (an SFTP-only account in WinSCP or FileZilla
//! cannot run `loa media` or `loa status`): what was accepted and rejected
//! today and why, the next broadcasts, and what needs attention. The
//! service rewrites it atomically whenever its content changes. This
//! module only renders the text; writing it is `media::folder`'s job.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::lang::Lang;
use crate::tr;

/// The note's file name, at the top of the audio folder (never taken up as
/// an upload).
pub const FILE_NAME: &str = "TINH-TRANG.txt";

/// One upload taken up today.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    /// When it was taken up.
    pub at: Timestamp,
    /// Its name below the audio folder.
    pub rel: String,
    /// None: accepted; Some: why it was refused (moved to rejected/, or a
    /// link left alone).
    pub refused: Option<String>,
}

/// A broadcast still to come.
#[derive(Clone, Debug, PartialEq)]
pub struct Coming {
    /// When its first item starts.
    pub at: Timestamp,
    /// Its title, if it has one.
    pub title: Option<String>,
    /// How many items it has.
    pub items: usize,
}

/// What the note says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Note {
    /// Today's uploads, accepted or refused.
    pub uploads: Vec<Upload>,
    /// The broadcasts still to come (the first after today when today has none
    /// left).
    pub coming: Vec<Coming>,
    /// Warnings and errors, already in the operator's words.
    pub attention: Vec<String>,
}

impl Note {
    /// The note's text, with CRLF line ends (Notepad on an old Windows
    /// shows LF-only files as one line).
    pub fn render(&self, now: Timestamp, tz: &TimeZone, lang: Lang) -> String {
        let mut lines: Vec<String> = Vec::new();
        let when = crate::lang::date_time(now, tz, lang);
        lines.push(tr!(
            lang,
            "TÌNH TRẠNG LOA (cập nhật lúc {when})",
            "LOA STATUS (updated {when})"
        ));
        lines.push(
            lang.pick(
                "Tệp này do loa tự viết lại mỗi khi có thay đổi; không cần sửa hay xóa.",
                "loa rewrites this file whenever something changes; there is no need to edit or delete it.",
            )
            .to_string(),
        );
        lines.push(String::new());
        lines.push(
            lang.pick("TỆP TẢI LÊN HÔM NAY", "UPLOADS TODAY")
                .to_string(),
        );
        if self.uploads.is_empty() {
            lines.push(format!(
                "  {}",
                lang.pick("(chưa có tệp nào)", "(none yet)")
            ));
        }
        for u in &self.uploads {
            let t = hhmm(u.at, tz);
            let rel = &u.rel;
            match &u.refused {
                None => lines.push(tr!(
                    lang,
                    "  {t}  ĐÃ NHẬN      {rel}",
                    "  {t}  ACCEPTED     {rel}"
                )),
                Some(why) => {
                    lines.push(tr!(
                        lang,
                        "  {t}  BỊ TỪ CHỐI   {rel}",
                        "  {t}  REFUSED      {rel}"
                    ));
                    lines.push(format!("         {why}"));
                }
            }
        }
        lines.push(String::new());
        lines.push(
            lang.pick("CÁC BUỔI PHÁT SẮP TỚI", "COMING BROADCASTS")
                .to_string(),
        );
        if self.coming.is_empty() {
            lines.push(format!(
                "  {}",
                lang.pick(
                    "(không có buổi phát nào trong 7 ngày tới)",
                    "(no broadcast in the coming 7 days)"
                )
            ));
        }
        let today = tz.to_offset(now).to_datetime(now).date();
        for c in &self.coming {
            let day = tz.to_offset(c.at).to_datetime(c.at).date();
            let t = hhmm(c.at, tz);
            let when = if day == today {
                t
            } else {
                format!("{} {t}", crate::lang::date(day, lang))
            };
            let title = c
                .title
                .clone()
                .unwrap_or_else(|| lang.pick("(không tên)", "(untitled)").to_string());
            let n = c.items;
            lines.push(tr!(
                lang,
                "  {when}  {title} ({n} tệp)",
                "  {when}  {title} ({n} file(s))"
            ));
        }
        if !self.attention.is_empty() {
            lines.push(String::new());
            lines.push(lang.pick("CẦN CHÚ Ý", "NEEDS ATTENTION").to_string());
            for a in &self.attention {
                lines.push(format!("  - {}", a.replace('\n', " ")));
            }
        }
        let mut out = lines.join("\r\n");
        out.push_str("\r\n");
        out
    }
}

/// "10:08" (local).
fn hhmm(t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_offset(t).to_datetime(t);
    format!("{:02}:{:02}", dt.hour(), dt.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_says_what_came_in_and_what_comes_next() {
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        let note = Note {
            uploads: vec![
                Upload {
                    at: t("2026-12-02T03:02:00Z"),
                    rel: "dai-hoi/ban-tin-3.mp3".into(),
                    refused: None,
                },
                Upload {
                    at: t("2026-12-02T03:05:00Z"),
                    rel: "thong-bao.mp3".into(),
                    refused: Some("Tệp bị thiếu phần cuối.".into()),
                },
            ],
            coming: vec![
                Coming {
                    at: t("2026-12-02T10:00:00Z"),
                    title: Some("Bản tin chiều".into()),
                    items: 3,
                },
                Coming {
                    at: t("2026-12-02T22:30:00Z"),
                    title: None,
                    items: 1,
                },
            ],
            attention: vec!["đĩa sắp đầy".into()],
        };
        let text = note.render(t("2026-12-02T03:08:00Z"), &tz, Lang::Vi);
        assert!(
            text.starts_with("TÌNH TRẠNG LOA (cập nhật lúc 02/12/2026 10:08)\r\n"),
            "{text}"
        );
        assert!(
            text.contains("  10:02  ĐÃ NHẬN      dai-hoi/ban-tin-3.mp3\r\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  10:05  BỊ TỪ CHỐI   thong-bao.mp3\r\n         Tệp bị thiếu phần cuối.\r\n"
            ),
            "{text}"
        );
        assert!(text.contains("  17:00  Bản tin chiều (3 tệp)"), "{text}");
        assert!(
            text.contains("  03/12/2026 05:30  (không tên) (1 tệp)"),
            "{text}"
        );
        assert!(text.contains("CẦN CHÚ Ý\r\n  - đĩa sắp đầy\r\n"), "{text}");
    }
}
