//! The human text of `loa status`: what plays, what is next, the relay,
//! the clock, today's broadcasts, each in the operator's language.

use std::time::Duration;

use jiff::Timestamp;

use crate::asrun::Priority;
use crate::control::protocol::{BroadcastResult, Status};
use crate::duration;
use crate::lang::Lang;
use crate::tr;

/// "(lúc 10:08:15)" / "(at 10:08:15)", with the date when it is not today.
fn when_bracket(at: &str, now: &str, lang: Lang) -> String {
    let t = when(at, now, lang);
    tr!(lang, "(lúc {t})", "(at {t})")
}

/// "the amplifier is warming up for "Bản tin sáng" (its first item at
/// 05:30:00)".
fn warming_up_text(w: &crate::control::protocol::WarmingUp) -> impl Fn(Lang, &str) -> String + '_ {
    move |lang, now| {
        let at = when(&w.until, now, lang);
        match &w.broadcast {
            Some(b) => tr!(
                lang,
                "chưa phát: ampli đang khởi động cho buổi \"{b}\" (bắt đầu phát lúc {at})",
                "nothing yet: the amplifier is warming up for \"{b}\" (its first item at {at})"
            ),
            None => tr!(
                lang,
                "chưa phát: ampli đang khởi động (bắt đầu phát lúc {at})",
                "nothing yet: the amplifier is warming up (the first item at {at})"
            ),
        }
    }
}

/// `loa status` for a person: a few labelled lines, then today's
/// broadcasts. `require_clock_sync` is the config's (the status does not
/// say): it decides whether an unsynchronised clock holds broadcasts back.
pub fn render_status(s: &Status, lang: Lang, require_clock_sync: bool) -> String {
    let mut out = aligned(&status_rows(s, lang, require_clock_sync));
    out.push('\n');
    out += &today_text(s, lang);
    out
}

/// The labelled lines of `loa status`, label and value, in order; the
/// optional ones (queued files, errors, warnings) only when there are any.
fn status_rows(s: &Status, lang: Lang, require_clock_sync: bool) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |label: &str, value: String| rows.push((label.to_string(), value));
    row(lang.pick("Đang phát", "Playing"), playing_text(s, lang));
    row(lang.pick("Tiếp theo", "Next"), next_text(s, lang));
    row(lang.pick("Ampli", "Relay"), relay_text(s, lang));
    for (label, text) in zone_rows(s, lang) {
        row(&label, text);
    }
    if let Some(d) = &s.district {
        row(
            lang.pick("Kết nối huyện", "District link"),
            district_text(d, lang),
        );
    }
    row(
        lang.pick("Đồng hồ", "Clock"),
        clock_text(s.clock_synced, require_clock_sync, lang),
    );
    row(
        lang.pick("Thiết bị âm thanh", "Audio device"),
        s.audio_device.clone(),
    );
    row(
        lang.pick("Danh sách phát", "Playlist"),
        s.playlist
            .clone()
            .unwrap_or_else(|| lang.pick("hôm nay không có", "none for today").into()),
    );
    if let Some(a) = &s.archive {
        row(lang.pick("Lưu trữ", "Archive"), a.clone());
    }
    if !s.queued.is_empty() {
        let files = s.queued.join(", ");
        row(
            lang.pick("Chờ phát ưu tiên", "Queued"),
            tr!(
                lang,
                "{files} (sẽ phát đầu tiên trong buổi phát tới)",
                "{files} (first in the next broadcast)"
            ),
        );
    }
    if let Some(e) = &s.last_error {
        let e = match &s.last_error_at {
            Some(at) => format!("{} {e}", when_bracket(at, &s.now, lang)),
            None => e.clone(),
        };
        row(lang.pick("Lỗi gần nhất", "Last error"), e);
    }
    if let Some(e) = &s.plan_error {
        row(
            lang.pick("Lỗi danh sách phát", "Playlist error"),
            tr!(
                lang,
                "{e}\nLịch phát đúng gần nhất vẫn đang được dùng. Hãy sửa tệp; loa sẽ tự đọc lại khi tệp thay đổi (`loa check` liệt kê mọi lỗi).",
                "{e}\nThe last good plan stays in effect. Correct the file: loa reads it again when it changes (`loa check` lists every problem)."
            ),
        );
    }
    for w in &s.warnings {
        row(lang.pick("Cảnh báo", "Warning"), w.clone());
    }
    rows
}

/// "Playing": the item on air with its progress, else the warm-up, else
/// nothing.
fn playing_text(s: &Status, lang: Lang) -> String {
    let Some(p) = &s.playing else {
        return match &s.warming_up {
            Some(w) => warming_up_text(w)(lang, &s.now),
            None => lang.pick("không có gì", "nothing").to_string(),
        };
    };
    let elapsed = duration::clock(secs(p.elapsed_s));
    let progress = match p.total_s {
        Some(t) => format!("{elapsed} / {}", duration::clock(secs(t))),
        None => elapsed,
    };
    let (file, index, count) = (&p.file, p.index, p.count);
    let priority = priority_word(p.priority, lang);
    let of = match &p.broadcast {
        Some(b) => tr!(lang, " của \"{b}\"", " of \"{b}\""),
        None => String::new(),
    };
    let main = tr!(
        lang,
        "{file} ({progress}), bài {index}/{count}{of}, mức {priority}",
        "{file} ({progress}), item {index} of {count}{of}, {priority}"
    );
    match &p.relay {
        Some(r) => format!("{main}; {}", live_text(r, lang)),
        None => main,
    }
}

/// A live programme: its source (main, backup N, fallback), what came in,
/// the programme's title, the last fault.
fn live_text(r: &crate::live::LiveInfo, lang: Lang) -> String {
    let source = match r.source.as_str() {
        "main" => lang.pick("luồng chính", "main stream").to_string(),
        "fallback" => lang.pick("tệp dự phòng", "fallback file").to_string(),
        "silence" => lang
            .pick("im lặng (mất sóng)", "silence (no stream)")
            .to_string(),
        "line-in" => lang.pick("đường vào (line-in)", "line-in").to_string(),
        "no signal" => lang
            .pick("đường vào không có tín hiệu", "no signal on the line-in")
            .to_string(),
        other => match other.strip_prefix("backup ") {
            Some(n) => tr!(lang, "luồng dự phòng {n}", "backup {n}"),
            None => other.to_string(),
        },
    };
    let (kb, secs) = (r.bytes / 1024, r.received_s.round() as u64);
    let mut t = tr!(
        lang,
        "tiếp sóng từ {source}, đã nhận {kb} KB, {secs} giây",
        "relaying the {source}, {kb} KB, {secs} s received"
    );
    if let Some(title) = &r.title {
        t.push_str(&tr!(
            lang,
            ", chương trình \"{title}\"",
            ", programme \"{title}\""
        ));
    }
    if let Some(f) = r.faults.last() {
        t.push_str(&tr!(lang, "; lỗi gần nhất: {f}", "; last fault: {f}"));
    }
    t
}

/// "Next": the next broadcast, when, and when the relay goes on for it.
fn next_text(s: &Status, lang: Lang) -> String {
    let Some(n) = &s.next else {
        return lang
            .pick("không có buổi phát nào sắp tới", "no broadcast planned")
            .to_string();
    };
    let title = title_text(n.title.as_deref(), lang);
    let at = when(&n.at, &s.now, lang);
    let relay_on = when(&n.relay_on, &s.now, lang);
    match between(&s.now, &n.at) {
        Some(d) => {
            let d = duration::human(d, lang);
            tr!(
                lang,
                "{title} lúc {at} (còn {d} nữa; bật ampli lúc {relay_on})",
                "{title} at {at} (in {d}; relay on at {relay_on})"
            )
        }
        None => tr!(
            lang,
            "{title} lúc {at} (bật ampli lúc {relay_on})",
            "{title} at {at} (relay on at {relay_on})"
        ),
    }
}

/// "Clock": synchronised, or not, and whether that holds broadcasts back.
fn clock_text(synced: bool, require_clock_sync: bool, lang: Lang) -> String {
    if synced {
        lang.pick("đã đồng bộ", "synchronised").to_string()
    } else if !require_clock_sync {
        lang.pick(
            "CHƯA đồng bộ. Máy vẫn phát theo giờ hiện có vì require-clock-sync = false. Hãy kiểm tra kết nối mạng và NTP (`timedatectl status`).",
            "NOT synchronised; broadcasts air by this machine's time anyway (require-clock-sync = false); check the network and NTP (`timedatectl status`)",
        )
        .to_string()
    } else {
        lang.pick(
            "CHƯA đồng bộ: sẽ không phát gì cho đến khi đồng hồ được đồng bộ. Hãy kiểm tra kết nối mạng và NTP (`timedatectl status`).",
            "NOT synchronised: nothing airs until it is; check the network and NTP (`timedatectl status`)",
        )
        .to_string()
    }
}

/// "Label:   value" lines, the values in one column (labels counted in
/// characters); a value's further lines are indented to it.
fn aligned(rows: &[(String, String)]) -> String {
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (label, value) in rows {
        let pad = " ".repeat(width - label.chars().count());
        let mut lines = value.lines();
        out += &format!("{label}:{pad} {}\n", lines.next().unwrap_or(""));
        for more in lines {
            out += &format!("{} {more}\n", " ".repeat(width + 1));
        }
    }
    out
}

/// "Today (20/01/2026):" and a line per broadcast of the day with its
/// result so far, the titles in one column.
fn today_text(s: &Status, lang: Lang) -> String {
    let day = date_of(&s.now)
        .map(|d| shown_date(d, lang))
        .unwrap_or_default();
    if s.today.is_empty() {
        return tr!(
            lang,
            "Hôm nay ({day}): không có buổi phát nào.\n",
            "Today ({day}): no broadcasts.\n"
        );
    }
    let mut out = tr!(lang, "Hôm nay ({day}):\n", "Today ({day}):\n");
    let titles: Vec<String> = s
        .today
        .iter()
        .map(|b| title_text(b.title.as_deref(), lang))
        .collect();
    let tw = titles.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    for (b, title) in s.today.iter().zip(&titles) {
        let pad = " ".repeat(tw - title.chars().count());
        let at = when(&b.at, &s.now, lang);
        let word = broadcast_word(&b.status, lang);
        out += &format!("  {at}  {title}{pad}  {word}\n");
    }
    out
}

/// "BẬT từ 05:59:57, đã 1 phút 15 giây (giả lập)" / "ON since 05:59:57 (1 min 15 s), sim".
pub(crate) fn relay_text(s: &Status, lang: Lang) -> String {
    let mut text = level_text(s.relay.on, s.relay.since.as_deref(), &s.now, lang);
    match (s.relay.backend.as_str(), lang) {
        ("", _) => {}
        ("sim", Lang::Vi) => text += " (giả lập)",
        (backend, _) => {
            text += ", ";
            text += backend;
        }
    }
    text
}

/// "BẬT từ 05:59:57, đã 1 phút 15 giây" / "ON since 05:59:57 (1 min 15 s)".
fn level_text(on: bool, since: Option<&str>, now: &str, lang: Lang) -> String {
    let word = match (on, lang) {
        (true, Lang::Vi) => "BẬT",
        (false, Lang::Vi) => "TẮT",
        (true, Lang::En) => "ON",
        (false, Lang::En) => "OFF",
    };
    let mut text = word.to_string();
    if let Some(since) = since {
        let at = when(since, now, lang);
        text += &match between(since, now) {
            Some(d) => {
                let d = duration::human(d, lang);
                tr!(lang, " từ {at}, đã {d}", " since {at} ({d})")
            }
            None => tr!(lang, " từ {at}", " since {at}"),
        };
    }
    text
}

/// One row per zone: ("Vùng thon-1", "Thôn Đông: BẬT từ 05:59:57, ...").
pub(crate) fn zone_rows(s: &Status, lang: Lang) -> Vec<(String, String)> {
    s.zones
        .iter()
        .map(|z| {
            let label = format!("{} {}", lang.pick("Vùng", "Zone"), z.name);
            let level = level_text(z.on, z.since.as_deref(), &s.now, lang);
            (label, format!("{}: {level}", z.title))
        })
        .collect()
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

fn title_text(title: Option<&str>, lang: Lang) -> String {
    match title {
        Some(t) => format!("\"{t}\""),
        None => lang.pick("(không có tên)", "(untitled)").to_string(),
    }
}

/// The date part of an RFC 3339 time, when it is one.
fn date_of(t: &str) -> Option<&str> {
    t.parse::<Timestamp>().ok()?;
    t.get(..10)
}

/// A date sent as "2026-01-21", as the operator writes it ("21/01/2026" in
/// Vietnamese).
fn shown_date(d: &str, lang: Lang) -> String {
    match d.parse::<jiff::civil::Date>() {
        Ok(d) => crate::lang::date(d, lang),
        Err(_) => d.to_string(),
    }
}

/// "06:00:00" for a time on the daemon's today, "2026-01-21 06:00:00"
/// ("21/01/2026 06:00:00" in Vietnamese) for another day; the text as sent
/// when it is not RFC 3339. The daemon sends the commune's local time, so
/// the text itself is read, not converted.
fn when(t: &str, now: &str, lang: Lang) -> String {
    let (Some(date), Some(time)) = (date_of(t), t.get(11..19)) else {
        return t.to_string();
    };
    if date_of(now) == Some(date) {
        time.to_string()
    } else {
        format!("{} {time}", shown_date(date, lang))
    }
}

/// From `a` to `b`, when both are RFC 3339 and `b` is not before `a`.
fn between(a: &str, b: &str) -> Option<Duration> {
    let (a, b) = (a.parse::<Timestamp>().ok()?, b.parse::<Timestamp>().ok()?);
    let ms = b.as_millisecond() - a.as_millisecond();
    // Whole seconds: "in 10 h 58 min 48 s", not tenths.
    (ms >= 0).then(|| Duration::from_secs((ms as u64).div_ceil(1000)))
}

fn priority_word(p: Priority, lang: Lang) -> String {
    let (vi, en) = match p {
        Priority::Normal => ("thường", "normal"),
        Priority::Priority => ("ưu tiên", "priority"),
        Priority::Emergency => ("KHẨN CẤP", "EMERGENCY"),
    };
    lang.pick(vi, en).to_string()
}

fn broadcast_word(status: &BroadcastResult, lang: Lang) -> String {
    use BroadcastResult as B;
    let (vi, en) = match status {
        B::Pending => ("chờ phát", "pending"),
        B::Playing => ("đang phát", "playing"),
        B::Aired => ("đã phát", "aired"),
        B::Partial => ("phát không trọn vẹn", "partly aired"),
        B::Late => ("phát muộn", "aired late"),
        B::Missed => ("bị lỡ", "missed"),
        B::Failed => ("lỗi", "failed"),
        B::Skipped => ("đã bỏ qua", "skipped"),
        B::BeforeInstall => ("trước khi cài đặt loa", "before loa was installed"),
        B::Other(other) => (other.as_str(), other.as_str()),
    };
    lang.pick(vi, en).to_string()
}

/// "đã kết nối (mqtts://…), hộp xa-an-binh" / "refused: why".
fn district_text(d: &crate::control::protocol::DistrictLink, lang: Lang) -> String {
    let state = match (d.state.as_str(), lang) {
        ("connected", Lang::Vi) => "đã kết nối",
        ("connecting", Lang::Vi) => "đang kết nối",
        ("disconnected", Lang::Vi) => "mất kết nối (loa vẫn phát theo lịch của mình)",
        ("refused", Lang::Vi) => "không kết nối",
        ("disconnected", Lang::En) => "disconnected (loa airs its own schedule all the same)",
        ("refused", Lang::En) => "not connecting",
        (s, _) => s,
    };
    let mut text = format!("{state}, {} ({})", d.broker, d.r#box);
    if let Some(e) = &d.error {
        text += ": ";
        text += e;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::fake::sample_status;

    #[test]
    fn the_human_status_in_english() {
        let text = render_status(&sample_status(), Lang::En, true);
        assert_eq!(
            text,
            "\
Playing:      tin-tuc.mp3 (1:12 / 3:05), item 2 of 3 of \"Bản tin sáng\", normal
Next:         \"Bản tin chiều\" at 17:00:00 (in 10 h 58 min 48 s; relay on at 16:59:57)
Relay:        ON since 05:59:57 (1 min 15 s), sim
Clock:        synchronised
Audio device: default
Playlist:     playlists/default.toml

Today (2026-01-20):
  06:00:00  \"Bản tin sáng\"   playing
  17:00:00  \"Bản tin chiều\"  pending
"
        );
    }

    #[test]
    fn the_human_status_in_vietnamese_with_trouble() {
        let mut s = sample_status();
        s.playing = None;
        s.next = None;
        s.relay.on = false;
        s.relay.since = None;
        s.clock_synced = false;
        s.last_error = Some("không mở được thiết bị âm thanh".into());
        s.plan_error = Some("playlists/2026-01-20.toml:3:1: lỗi".into());
        s.queued = vec!["a.mp3".into()];
        s.today[0].status = BroadcastResult::Missed;
        s.today[1].status = BroadcastResult::Late;
        let text = render_status(&s, Lang::Vi, true);
        for want in [
            "Đang phát:",
            "không có gì",
            "không có buổi phát nào sắp tới",
            "Ampli:",
            "TẮT (giả lập)",
            "CHƯA đồng bộ: sẽ không phát gì cho đến khi đồng hồ được đồng bộ",
            "Lỗi gần nhất:",
            "Lỗi danh sách phát: playlists/2026-01-20.toml:3:1: lỗi\n",
            "Lịch phát đúng gần nhất vẫn đang được dùng",
            "a.mp3 (sẽ phát đầu tiên",
            "Hôm nay (20/01/2026):",
            "\"Bản tin sáng\"   bị lỡ",
            "phát muộn",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
    }

    #[test]
    fn an_unsynced_clock_holds_broadcasts_only_when_the_config_says_so() {
        let mut s = sample_status();
        s.clock_synced = false;
        let held = render_status(&s, Lang::En, true);
        assert!(held.contains("nothing airs until it is"), "{held}");
        let not_held = render_status(&s, Lang::En, false);
        assert!(
            not_held.contains("NOT synchronised; broadcasts air by this machine's time anyway"),
            "{not_held}"
        );
    }

    #[test]
    fn times_on_another_day_show_the_date() {
        let now = "2026-01-20T23:59:00+07:00";
        assert_eq!(
            when("2026-01-21T06:00:00+07:00", now, Lang::En),
            "2026-01-21 06:00:00"
        );
        assert_eq!(
            when("2026-01-21T06:00:00+07:00", now, Lang::Vi),
            "21/01/2026 06:00:00"
        );
        assert_eq!(
            when("2026-01-20T06:00:00.250+07:00", now, Lang::En),
            "06:00:00"
        );
        assert_eq!(when("soon", now, Lang::En), "soon");
        assert_eq!(
            between(now, "2026-01-21T00:00:30+07:00"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(between("2026-01-21T00:00:30+07:00", now), None);
    }

    // Issue 10: during the warm-up, status says for which broadcast.
    #[test]
    fn the_warm_up_is_said_with_its_broadcast() {
        let mut s = sample_status();
        s.playing = None;
        s.warming_up = Some(crate::control::protocol::WarmingUp {
            broadcast: Some("Bản tin sáng".into()),
            since: "2026-01-20T06:01:10+07:00".into(),
            until: "2026-01-20T06:01:13+07:00".into(),
        });
        let text = render_status(&s, Lang::Vi, true);
        assert!(
            text.contains(
                "ampli đang khởi động cho buổi \"Bản tin sáng\" (bắt đầu phát lúc 06:01:13)"
            ),
            "{text}"
        );
    }

    #[test]
    fn unknown_words_are_shown_as_sent() {
        let sent: crate::control::protocol::TodayBroadcast =
            serde_json::from_str(r#"{"at": "06:00", "status": "paused"}"#).unwrap();
        assert_eq!(broadcast_word(&sent.status, Lang::Vi), "paused");
        assert_eq!(priority_word(Priority::Emergency, Lang::Vi), "KHẨN CẤP");
    }
}
