//! The planner: one day's playlist plus each file's duration in, the day's
//! timeline out (relay on, items, relay off), with the problems that make a
//! day unsafe or impossible. Pure: no IO, no clock; `now` and the media facts
//! come in as arguments, so a year of days plans in milliseconds.

pub mod agenda;
pub mod clock;
pub mod timeline;

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::config::Config;
use crate::lang::Lang;
use crate::playlist::{Broadcast, Playlist, hhmm};
use crate::problem::Problem;
use crate::tr;

/// What the planner needs from the config.
#[derive(Clone, Debug)]
pub struct PlanSettings {
    /// The commune's time zone: playlist times are local times in it.
    pub tz: TimeZone,
    /// The relay's warm-up before a broadcast's first item (`[relay] warm-up`).
    pub warm_up: Duration,
    /// The relay's hold after a broadcast's last item (`[relay] hold`).
    pub hold: Duration,
    /// The longest the relay may stay on (`[relay] max-on`): a broadcast
    /// planned longer is a problem.
    pub max_on: Duration,
    /// The default gap between items (`[audio] gap`).
    pub gap: Duration,
    /// The language of the problems' messages.
    pub lang: Lang,
    /// `[[zone]]`: the hamlets' lines a broadcast may name (empty: none).
    pub zones: Vec<crate::config::Zone>,
}

impl PlanSettings {
    /// The settings from the validated config.
    pub fn from_config(cfg: &Config) -> PlanSettings {
        PlanSettings {
            tz: cfg.tz.clone(),
            warm_up: cfg.relay.warm_up,
            hold: cfg.relay.hold,
            max_on: cfg.relay.max_on,
            gap: cfg.audio.gap,
            lang: cfg.lang,
            zones: cfg.zones.clone(),
        }
    }
}

/// What the media library says about one playlist item's file.
#[derive(Clone, Debug, PartialEq)]
pub enum MediaStatus {
    /// It plays, for this long; `path` is the file below the audio folder as
    /// it is on disk (its name may differ from the playlist's in Unicode form).
    Playable {
        /// How long it plays.
        duration: Duration,
        /// The file below the audio folder, as on disk.
        path: String,
    },
    /// It cannot be aired; the message says why and what to do, already in
    /// the operator's language.
    Unplayable(String),
    /// It is still being uploaded: not judged yet, not planned yet (the
    /// service plans it once the upload is complete); a warning, not an
    /// error.
    Uploading(String),
}

/// What planning asks of the audio folder: each item name's status. The
/// media library answers it (`media::Facts`); tests answer from a table.
pub trait MediaFacts {
    /// The status of the item file `name` (NFC, below the audio folder).
    fn status(&self, name: &str) -> MediaStatus;

    /// The status of a text read aloud: its render's length and file
    /// (rendered ahead, `tts::render_ahead`), or why it has none.
    fn speech(&self, say: &crate::tts::Say) -> MediaStatus {
        let _ = say;
        MediaStatus::Unplayable(
            crate::lang::operator()
                .pick(
                    "Văn bản chưa được chuyển thành giọng đọc.",
                    "the text has not been rendered to speech",
                )
                .to_string(),
        )
    }
}

impl<F: Fn(&str) -> MediaStatus> MediaFacts for F {
    fn status(&self, name: &str) -> MediaStatus {
        self(name)
    }
}

/// One day's plan, the whole pipeline in one place: the playlist in effect
/// that day (its dated file, else the default), each item's file from the
/// media facts, and the day's timeline by the planner's rule. The service,
/// `loa plan`, `loa check` and the benchmarks all plan through it.
pub fn plan_for(
    day: Date,
    playlists: &crate::playlist::PlaylistSet,
    media: &dyn MediaFacts,
    settings: &PlanSettings,
) -> DayPlan {
    plan_day(day, playlists.for_date(day).playlist(), media, settings)
}

/// The day's timeline.
#[derive(Clone, Debug)]
pub struct DayPlan {
    /// The day planned.
    pub date: Date,
    /// The playlist file in effect, if any.
    pub source: Option<PathBuf>,
    /// The broadcasts that air that day, in order of relay-on; one that
    /// cannot air at all (no playable item, a time that does not exist) is
    /// left out, with a problem.
    pub broadcasts: Vec<PlannedBroadcast>,
    /// What makes the day unsafe or impossible, located in the playlist.
    pub problems: Vec<Problem>,
}

/// One broadcast as planned for one day.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedBroadcast {
    /// Its place among the playlist's `[[broadcast]]` tables.
    pub index: usize,
    /// Its `title`, if it has one.
    pub title: Option<String>,
    /// When its first item starts (the playlist's `at` on that day).
    pub at: Timestamp,
    /// When the relay goes on: `at` minus the warm-up.
    pub relay_on: Timestamp,
    /// When the last item ends.
    pub end: Timestamp,
    /// When the relay goes off: `end` plus the hold.
    pub relay_off: Timestamp,
    /// Its `tags`, for the as-run log.
    pub tags: Vec<String>,
    /// The zones it airs to, by name, in the config's order: every zone
    /// when the playlist names none; empty when no zone is configured.
    pub zones: Vec<String>,
    /// The silence between its items.
    pub gap: Duration,
    /// The items in airing order, repeats written out; those whose file
    /// cannot air (yet) are left out, see `skipped`.
    pub items: Vec<PlannedItem>,
    /// Items left out because their file cannot be aired (missing,
    /// rejected, broken): (name, why). At air time they are recorded failed.
    pub skipped: Vec<(String, String)>,
}

/// One item as planned: the file and when it plays.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedItem {
    /// The name as the playlist gives it (NFC).
    pub file: String,
    /// The file as found on disk, below the audio folder.
    pub path: String,
    /// When it is planned to start.
    pub start: Timestamp,
    /// When it is planned to end.
    pub end: Timestamp,
    /// Its length, as measured.
    pub duration: Duration,
    /// Its own `volume-db`, added to the `[audio]` settings.
    pub volume_db: f64,
    /// A live programme's source and slot (`path` is then empty).
    pub live: Option<crate::live::Live>,
    /// A text read aloud: `path` is then its render in the cache (an
    /// absolute path), `file` the text's first 80 characters.
    pub say: Option<crate::tts::Say>,
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

fn ts(millis: i64) -> Timestamp {
    Timestamp::from_millisecond(millis).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Local "HH:MM:SS" of a timestamp in the plan's zone.
pub fn local_time(t: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_offset(t).to_datetime(t);
    format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second())
}

/// RFC 3339 with the zone's offset, milliseconds only when there are any:
/// "2026-01-20T06:00:00+07:00", "2026-01-20T06:00:12.345+07:00".
pub fn rfc3339(t: Timestamp, tz: &TimeZone) -> String {
    let offset = tz.to_offset(t);
    let dt = offset.to_datetime(t);
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let (oh, om) = (secs.abs() / 3600, secs.abs() / 60 % 60);
    let millis = dt.subsec_nanosecond() / 1_000_000;
    let frac = if millis == 0 {
        String::new()
    } else {
        format!(".{millis:03}")
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{frac}{sign}{oh:02}:{om:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// The instant a local date and time of day happen in `tz`. In a gap (clocks
/// jumping forward) there is none; in a fold the earlier one is used.
fn instant(date: Date, time: jiff::civil::Time, tz: &TimeZone) -> Option<Timestamp> {
    let amb = tz.to_ambiguous_timestamp(date.to_datetime(time));
    if matches!(amb.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
        return None;
    }
    amb.earlier().ok()
}

/// Plans one day. `media` answers for each item's file name (NFC).
pub fn plan_day(
    date: Date,
    playlist: Option<&Playlist>,
    media: &dyn MediaFacts,
    s: &PlanSettings,
) -> DayPlan {
    let mut plan = DayPlan {
        date,
        source: playlist.map(|p| p.path.clone()),
        broadcasts: Vec::new(),
        problems: Vec::new(),
    };
    let Some(playlist) = playlist else {
        return plan;
    };
    let mut day = Day {
        date,
        playlist,
        media,
        s,
        start: instant(date, jiff::civil::Time::midnight(), &s.tz),
        end: date
            .tomorrow()
            .ok()
            .and_then(|d| instant(d, jiff::civil::Time::midnight(), &s.tz)),
        problems: Vec::new(),
    };
    // (broadcast, where its `at` is) for the overlap check.
    let mut placed: Vec<(PlannedBroadcast, &Broadcast)> = playlist
        .broadcasts
        .iter()
        .filter(|b| b.airs_on(date))
        .filter_map(|b| {
            let pb = day.broadcast(b)?;
            day.check_limits(&pb, b);
            Some((pb, b))
        })
        .collect();
    placed.sort_by_key(|(pb, _)| (pb.relay_on, pb.index));
    day.check_overlaps(&placed);
    plan.problems = day.problems;
    plan.broadcasts = placed.into_iter().map(|(pb, _)| pb).collect();
    plan
}

/// An item in airing order: the playlist's item, its length, its file.
type Airing<'b> = (&'b crate::playlist::Item, Duration, String);

/// One day being planned: what it is planned from, and the problems found.
struct Day<'a> {
    date: Date,
    playlist: &'a Playlist,
    media: &'a dyn MediaFacts,
    s: &'a PlanSettings,
    /// The day's first and last instants (None: not a time on this day).
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    problems: Vec<Problem>,
}

impl Day<'_> {
    fn error_at(&self, b: &Broadcast, msg: String) -> Problem {
        Problem::error(&self.playlist.path, b.pos.line, b.pos.column, msg)
    }

    /// One broadcast's times by the timing rule, its unplayable files set
    /// aside (with their problems); None when it cannot air at all.
    fn broadcast(&mut self, b: &Broadcast) -> Option<PlannedBroadcast> {
        let (lang, s) = (self.s.lang, self.s);
        let label = b.label(lang);
        let Some(at) = instant(self.date, b.at, &s.tz) else {
            let t = hhmm(b.at);
            let date = crate::lang::date(self.date, lang);
            let p = self.error_at(b, tr!(
                lang,
                "Ngày {date} không có giờ {t} (đồng hồ được vặn nhảy qua giờ này); hãy chọn giờ khác cho {label}.",
                "{t} does not exist on {date} (the clocks skip it); choose another time for {label}"
            ));
            self.problems.push(p);
            return None;
        };
        let zones = self.zones(b)?;
        let gap = b.gap.unwrap_or(s.gap);
        let (order, skipped) = self.airing_order(b);
        let timing = timeline::Timing {
            warm_up: s.warm_up,
            gap,
            hold: s.hold,
        };
        let durations: Vec<Duration> = order.iter().map(|(_, d, _)| *d).collect();
        let tl = timeline::Timeline::from_first_start(at, &durations, timing);
        let items: Vec<PlannedItem> = order
            .into_iter()
            .zip(&tl.starts)
            .map(|((it, dur, path), start)| PlannedItem {
                file: it.file.clone(),
                path,
                start: *start,
                end: ts(start.as_millisecond() + ms(dur)),
                duration: dur,
                volume_db: it.volume_db,
                live: it.live.clone(),
                say: it.say.clone(),
            })
            .collect();
        if items.is_empty() {
            self.problems.push(Problem::warning(
                &self.playlist.path,
                b.pos.line,
                b.pos.column,
                tr!(
                    lang,
                    "Không có tệp nào trong {label} phát được, nên buổi này sẽ không được phát; hãy sửa lỗi của từng tệp (báo ở dòng của tệp đó).",
                    "{label} has no playable file, so it will not air; fix the error of each of its files (given at that file's line)"
                ),
            ));
            return None;
        }
        Some(PlannedBroadcast {
            index: b.index,
            title: b.title.clone(),
            at,
            relay_on: tl.relay_on,
            end: tl.end,
            relay_off: tl.relay_off,
            tags: b.tags.clone(),
            zones,
            gap,
            items,
            skipped,
        })
    }

    /// The zones a broadcast airs to, checked against the config's: an
    /// unknown name is an error at its place (with the nearest name), and
    /// the broadcast airs to the known ones it names; None (not aired) when
    /// it names none that exist. Zones named where none are configured
    /// are a warning: there is one line, the whole commune hears it.
    fn zones(&mut self, b: &Broadcast) -> Option<Vec<String>> {
        let (lang, s) = (self.s.lang, self.s);
        let all = || s.zones.iter().map(|z| z.name.clone()).collect::<Vec<_>>();
        let Some(named) = &b.zones else {
            return Some(all());
        };
        let path = &self.playlist.path;
        if s.zones.is_empty() {
            if let Some((_, pos)) = named.first() {
                self.problems.push(Problem::warning(path, pos.line, pos.column, tr!(
                    lang,
                    "Tệp cấu hình chưa khai báo vùng nào ([[zone]]), nên `zones` không có tác dụng: buổi phát này phát cho cả xã.",
                    "the config declares no zones ([[zone]]), so `zones` has no effect: this broadcast airs to the whole commune"
                )));
            }
            return Some(Vec::new());
        }
        let mut known = Vec::new();
        for (name, pos) in named {
            if s.zones.iter().any(|z| &z.name == name) {
                known.push(name.clone());
            } else {
                let msg = crate::config::zone::unknown_message(&s.zones, name, lang);
                self.problems
                    .push(Problem::error(path, pos.line, pos.column, msg));
            }
        }
        if known.is_empty() {
            let label = b.label(lang);
            let p = self.error_at(b, tr!(
                lang,
                "{label} không phát cho vùng nào có thật, nên sẽ không được phát; hãy sửa `zones`.",
                "{label} names no zone that exists, so it will not air; correct `zones`"
            ));
            self.problems.push(p);
            return None;
        }
        let all = all();
        Some(all.into_iter().filter(|n| known.contains(n)).collect())
    }

    /// The broadcast's playable items in airing order (repeats unrolled),
    /// each with its length and file; and the files that cannot air, with
    /// why (each resolved once, its problem reported at its line).
    fn airing_order<'b>(&mut self, b: &'b Broadcast) -> (Vec<Airing<'b>>, Vec<(String, String)>) {
        let mut skipped = Vec::new();
        let resolved: Vec<Option<(Duration, String)>> = b
            .items
            .iter()
            .map(|it| {
                let at = |p: fn(&std::path::Path, u32, u32, String) -> Problem, msg| {
                    p(&self.playlist.path, it.pos.line, it.pos.column, msg)
                };
                if let Some(live) = &it.live {
                    // A live slot lasts what `for` says; its source is only
                    // known at air time.
                    return Some((live.slot, String::new()));
                }
                let status = match &it.say {
                    Some(say) => self.media.speech(say),
                    None => self.media.status(&it.file),
                };
                match status {
                    MediaStatus::Playable { duration, path } => return Some((duration, path)),
                    MediaStatus::Unplayable(msg) => {
                        skipped.push((it.file.clone(), msg.clone()));
                        self.problems.push(at(Problem::error, msg));
                    }
                    MediaStatus::Uploading(msg) => {
                        skipped.push((it.file.clone(), msg.clone()));
                        self.problems.push(at(Problem::warning, msg));
                    }
                }
                None
            })
            .collect();
        let mut order = Vec::new();
        for _ in 0..b.repeat {
            for (it, r) in b.items.iter().zip(&resolved) {
                let Some((dur, path)) = r else { continue };
                for _ in 0..it.repeat {
                    order.push((it, *dur, path.clone()));
                }
            }
        }
        (order, skipped)
    }

    /// The amplifier on longer than max-on; a broadcast across midnight.
    fn check_limits(&mut self, pb: &PlannedBroadcast, b: &Broadcast) {
        let (lang, s) = (self.s.lang, self.s);
        let label = b.label(lang);
        let on_for = Duration::from_millis(
            (pb.relay_off.as_millisecond() - pb.relay_on.as_millisecond()) as u64,
        );
        if on_for > s.max_on {
            let (len, max, max_h) = (
                crate::duration::human(on_for, lang),
                crate::duration::to_config_text(s.max_on),
                crate::duration::human(s.max_on, lang),
            );
            let p = self.error_at(b, tr!(
                lang,
                "Ampli phải bật liền {len} cho {label}, lâu hơn giới hạn {max_h} (max-on = \"{max}\"), nên buổi phát sẽ bị ngắt giữa chừng. Hãy bớt tệp, tách thành hai buổi, hoặc tăng [relay] max-on.",
                "{label} keeps the amplifier on for {len}, longer than max-on = \"{max}\", so it would be cut off; remove items, split it in two, or raise [relay] max-on"
            ));
            self.problems.push(p);
        }
        let before_start = self.start.is_some_and(|d| pb.relay_on < d);
        let after_end = self.end.is_some_and(|d| pb.relay_off > d);
        if before_start || after_end {
            let (on, off) = (
                local_time(pb.relay_on, &s.tz),
                local_time(pb.relay_off, &s.tz),
            );
            let p = self.error_at(b, tr!(
                lang,
                "Thời gian của {label} kéo qua nửa đêm (bật ampli lúc {on}, tắt ampli lúc {off}), trong khi mỗi ngày có danh sách phát riêng; hãy cho buổi phát kết thúc trước 24:00 hoặc bắt đầu sau 00:00.",
                "{label} runs past midnight (relay on {on}, off {off}); each day has its own playlist, so make it end before 24:00 or start after 00:00"
            ));
            self.problems.push(p);
        }
    }

    /// Two broadcasts whose amplifier windows overlap (`placed` in order of
    /// relay-on): the later one is reported.
    fn check_overlaps(&mut self, placed: &[(PlannedBroadcast, &Broadcast)]) {
        let (lang, tz) = (self.s.lang, &self.s.tz);
        for i in 0..placed.len() {
            for j in 0..i {
                let (a, ab) = (&placed[j].0, placed[j].1);
                let (b, bb) = (&placed[i].0, placed[i].1);
                if b.relay_on < a.relay_off {
                    let (la, lb) = (ab.label(lang), bb.label(lang));
                    let (a_off, b_on) = (local_time(a.relay_off, tz), local_time(b.relay_on, tz));
                    let p = self.error_at(bb, tr!(
                        lang,
                        "Hai buổi phát trùng giờ: {la} tắt ampli lúc {a_off}, nhưng {lb} đã bật ampli lúc {b_on}. Hãy dời giờ một trong hai buổi cho cách nhau.",
                        "{lb} overlaps {la}: {la} switches the amplifier off at {a_off} but {lb} switches it on at {b_on}; move one of them so they are apart"
                    ));
                    self.problems.push(p);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playlist::Item;
    use crate::playlist::Pos;
    use jiff::civil::{Time, Weekday, date};
    use std::path::Path;

    fn settings() -> PlanSettings {
        PlanSettings {
            tz: TimeZone::get("Asia/Ho_Chi_Minh").unwrap(),
            warm_up: Duration::from_secs(3),
            hold: Duration::from_secs(2),
            max_on: Duration::from_secs(90 * 60),
            gap: Duration::from_secs(2),
            lang: Lang::En,
            zones: vec![],
        }
    }

    fn item(file: &str, line: u32) -> Item {
        Item {
            file: file.into(),
            pos: Pos { line, column: 10 },
            repeat: 1,
            volume_db: 0.0,
            jingle: false,
            live: None,
            say: None,
        }
    }

    fn broadcast(index: usize, at: &str, items: Vec<Item>) -> Broadcast {
        Broadcast {
            index,
            pos: Pos {
                line: index as u32 * 10 + 2,
                column: 6,
            },
            at: crate::playlist::parse_time(at).unwrap(),
            title: Some(format!("B{index}")),
            items,
            repeat: 1,
            gap: None,
            from: None,
            until: None,
            days: None,
            tags: vec![],
            zones: None,
        }
    }

    fn playlist(broadcasts: Vec<Broadcast>) -> Playlist {
        Playlist {
            path: Path::new("/pl/default.toml").into(),
            title: None,
            broadcasts,
            unplanned_items: vec![],
            tag_names: Default::default(),
        }
    }

    fn media(name: &str) -> MediaStatus {
        match name {
            "jingle.mp3" => MediaStatus::Playable {
                duration: Duration::from_millis(5_432),
                path: name.into(),
            },
            "long.mp3" => MediaStatus::Playable {
                duration: Duration::from_secs(50 * 60),
                path: name.into(),
            },
            n if n.starts_with("news") => MediaStatus::Playable {
                duration: Duration::from_secs(10),
                path: name.into(),
            },
            other => MediaStatus::Unplayable(format!("missing {other}")),
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn timeline_has_warm_up_gaps_and_hold() {
        let mut b = broadcast(
            0,
            "06:00",
            vec![item("jingle.mp3", 3), item("news1.mp3", 3)],
        );
        b.items[1].repeat = 2;
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![b])),
            &media,
            &settings(),
        );
        assert!(p.problems.is_empty(), "{:#?}", p.problems);
        let b = &p.broadcasts[0];
        assert_eq!(b.relay_on, at("2026-01-19T22:59:57Z"));
        assert_eq!(b.at, at("2026-01-19T23:00:00Z"));
        let starts: Vec<String> = b
            .items
            .iter()
            .map(|i| rfc3339(i.start, &settings().tz))
            .collect();
        assert_eq!(
            starts,
            [
                "2026-01-20T06:00:00+07:00",
                "2026-01-20T06:00:07.432+07:00",
                "2026-01-20T06:00:19.432+07:00"
            ]
        );
        assert_eq!(
            rfc3339(b.end, &settings().tz),
            "2026-01-20T06:00:29.432+07:00"
        );
        assert_eq!(
            rfc3339(b.relay_off, &settings().tz),
            "2026-01-20T06:00:31.432+07:00"
        );
    }

    #[test]
    fn broadcast_repeat_and_gap_override() {
        let mut b = broadcast(0, "17:00", vec![item("news1.mp3", 3), item("news2.mp3", 3)]);
        b.repeat = 2;
        b.gap = Some(Duration::from_millis(500));
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![b])),
            &media,
            &settings(),
        );
        let files: Vec<&str> = p.broadcasts[0]
            .items
            .iter()
            .map(|i| i.file.as_str())
            .collect();
        assert_eq!(files, ["news1.mp3", "news2.mp3", "news1.mp3", "news2.mp3"]);
        let end = p.broadcasts[0].end.as_millisecond() - p.broadcasts[0].at.as_millisecond();
        assert_eq!(end, 4 * 10_000 + 3 * 500);
    }

    #[test]
    fn date_range_and_weekdays_select_broadcasts() {
        let mut before = broadcast(0, "06:00", vec![item("news1.mp3", 3)]);
        before.until = Some(date(2026, 1, 18));
        let mut during = broadcast(1, "06:00", vec![item("news2.mp3", 13)]);
        during.from = Some(date(2026, 1, 19));
        during.until = Some(date(2026, 1, 23));
        let mut sundays = broadcast(2, "17:00", vec![item("news3.mp3", 23)]);
        sundays.days = Some(vec![Weekday::Sunday]);
        let pl = playlist(vec![before, during, sundays]);
        let titles = |d: Date| -> Vec<String> {
            plan_day(d, Some(&pl), &media, &settings())
                .broadcasts
                .iter()
                .map(|b| b.title.clone().unwrap())
                .collect()
        };
        assert_eq!(titles(date(2026, 1, 18)), ["B0", "B2"]); // a Sunday
        assert_eq!(titles(date(2026, 1, 19)), ["B1"]);
        assert_eq!(titles(date(2026, 1, 23)), ["B1"]);
        assert_eq!(titles(date(2026, 1, 24)), Vec::<String>::new());
        assert_eq!(titles(date(2026, 1, 25)), ["B2"]);
    }

    fn zoned() -> PlanSettings {
        let zone = |name: &str, title: &str, line: u32| crate::config::Zone {
            name: name.into(),
            title: title.into(),
            line: crate::config::LineSpec::Offset(line),
            active_low: None,
        };
        PlanSettings {
            zones: vec![
                zone("thon-1", "Thôn Đông", 22),
                zone("thon-2", "Thôn Tây", 23),
                zone("thon-3", "Thôn Bắc", 24),
            ],
            ..settings()
        }
    }

    fn naming(b: &mut Broadcast, zones: &[&str]) {
        b.zones = Some(
            zones
                .iter()
                .map(|z| {
                    (
                        z.to_string(),
                        Pos {
                            line: 7,
                            column: 12,
                        },
                    )
                })
                .collect(),
        );
    }

    #[test]
    fn zones_default_to_all_and_keep_the_config_s_order() {
        let all = broadcast(0, "06:00", vec![item("news1.mp3", 3)]);
        let mut some = broadcast(1, "17:00", vec![item("news2.mp3", 13)]);
        naming(&mut some, &["thon-3", "thon-1"]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![all.clone(), some.clone()])),
            &media,
            &zoned(),
        );
        assert!(p.problems.is_empty(), "{:#?}", p.problems);
        assert_eq!(p.broadcasts[0].zones, ["thon-1", "thon-2", "thon-3"]);
        assert_eq!(p.broadcasts[1].zones, ["thon-1", "thon-3"]);
        // Without zones in the config: none, whatever the playlist says
        // (a warning: the whole commune hears it).
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![all, some])),
            &media,
            &settings(),
        );
        assert!(p.broadcasts.iter().all(|b| b.zones.is_empty()));
        assert_eq!(p.problems.len(), 1, "{:#?}", p.problems);
        assert!(!p.problems[0].is_error());
        assert!(
            p.problems[0].message.contains("no zones"),
            "{}",
            p.problems[0]
        );
    }

    #[test]
    fn an_unknown_zone_is_an_error_with_the_nearest_name() {
        let mut typo = broadcast(0, "06:00", vec![item("news1.mp3", 3)]);
        naming(&mut typo, &["thon-2", "thon-l"]);
        let mut none = broadcast(1, "17:00", vec![item("news2.mp3", 13)]);
        naming(&mut none, &["xom-9"]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![typo, none])),
            &media,
            &zoned(),
        );
        let errors: Vec<String> = p
            .problems
            .iter()
            .filter(|x| x.is_error())
            .map(|x| x.message.clone())
            .collect();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors[0].contains("\"thon-l\"") && errors[0].contains("did you mean \"thon-1\""),
            "{}",
            errors[0]
        );
        assert!(errors[1].contains("\"xom-9\"") && errors[1].contains("Thôn Bắc"));
        assert!(errors[2].contains("will not air"), "{}", errors[2]);
        // The known zone airs; the broadcast naming none does not.
        assert_eq!(p.broadcasts.len(), 1);
        assert_eq!(p.broadcasts[0].zones, ["thon-2"]);
    }

    #[test]
    fn broadcasts_to_different_zones_still_share_one_amplifier() {
        let mut a = broadcast(0, "06:00", vec![item("news1.mp3", 3)]);
        naming(&mut a, &["thon-1"]);
        let mut b = broadcast(1, "06:00:12", vec![item("news2.mp3", 13)]);
        naming(&mut b, &["thon-2"]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![a, b])),
            &media,
            &zoned(),
        );
        assert_eq!(p.problems.len(), 1, "{:#?}", p.problems);
        assert!(
            p.problems[0].message.contains("overlaps"),
            "{}",
            p.problems[0]
        );
    }

    #[test]
    fn overlap_names_both_broadcasts() {
        let a = broadcast(0, "06:00", vec![item("news1.mp3", 3)]);
        // a: relay 05:59:57 .. 06:00:12; b's relay-on at 06:00:09 overlaps.
        let b = broadcast(1, "06:00:12", vec![item("news2.mp3", 13)]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![a, b])),
            &media,
            &settings(),
        );
        assert_eq!(p.problems.len(), 1, "{:#?}", p.problems);
        let m = &p.problems[0];
        assert!(
            m.message.contains("\"B1\" overlaps \"B0\""),
            "{}",
            m.message
        );
        assert_eq!(m.line, 12);
        // Touching is fine: b's relay-on exactly at a's relay-off.
        let a = broadcast(0, "06:00", vec![item("news1.mp3", 3)]);
        let b = broadcast(1, "06:00:15", vec![item("news2.mp3", 13)]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![a, b])),
            &media,
            &settings(),
        );
        assert!(p.problems.is_empty(), "{:#?}", p.problems);
    }

    #[test]
    fn longer_than_max_on() {
        let b = broadcast(0, "06:00", vec![item("long.mp3", 3), item("long.mp3", 3)]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![b])),
            &media,
            &settings(),
        );
        assert_eq!(p.problems.len(), 1);
        assert!(
            p.problems[0].message.contains("max-on = \"1h30m\""),
            "{}",
            p.problems[0].message
        );
        assert_eq!(
            p.broadcasts.len(),
            1,
            "still planned: the watchdog will cut it"
        );
    }

    #[test]
    fn missing_file_is_located_and_skipped() {
        let b = broadcast(0, "06:00", vec![item("jingle.mp3", 3), item("gone.mp3", 4)]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![b])),
            &media,
            &settings(),
        );
        assert_eq!(p.problems.len(), 1);
        assert_eq!(
            (p.problems[0].line, p.problems[0].message.as_str()),
            (4, "missing gone.mp3")
        );
        assert_eq!(p.broadcasts[0].items.len(), 1);
        let only_missing = broadcast(0, "06:00", vec![item("gone.mp3", 4)]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![only_missing])),
            &media,
            &settings(),
        );
        assert!(p.broadcasts.is_empty());
        assert_eq!(p.problems.len(), 2);
    }

    #[test]
    fn past_midnight() {
        let b = broadcast(0, "23:59:55", vec![item("news1.mp3", 3)]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![b])),
            &media,
            &settings(),
        );
        assert!(
            p.problems[0].message.contains("past midnight"),
            "{:#?}",
            p.problems
        );
        let b = broadcast(0, "00:00:01", vec![item("news1.mp3", 3)]);
        let p = plan_day(
            date(2026, 1, 20),
            Some(&playlist(vec![b])),
            &media,
            &settings(),
        );
        assert!(p.problems[0].message.contains("past midnight"));
    }

    #[test]
    fn times_are_local_to_the_configured_zone() {
        let mut s = settings();
        s.tz = TimeZone::get("America/New_York").unwrap();
        s.warm_up = Duration::ZERO;
        let b = broadcast(0, "06:00", vec![item("news1.mp3", 3)]);
        let p = plan_day(
            date(2026, 7, 1),
            Some(&playlist(vec![b.clone()])),
            &media,
            &s,
        );
        assert_eq!(
            rfc3339(p.broadcasts[0].at, &s.tz),
            "2026-07-01T06:00:00-04:00"
        );
        let p = plan_day(date(2026, 1, 1), Some(&playlist(vec![b])), &media, &s);
        assert_eq!(
            rfc3339(p.broadcasts[0].at, &s.tz),
            "2026-01-01T06:00:00-05:00"
        );
    }

    #[test]
    fn a_time_skipped_by_dst_is_reported() {
        let mut s = settings();
        s.tz = TimeZone::get("Europe/Paris").unwrap();
        let b = broadcast(0, "02:30", vec![item("news1.mp3", 3)]);
        let p = plan_day(date(2026, 3, 29), Some(&playlist(vec![b])), &media, &s);
        assert!(p.broadcasts.is_empty());
        assert!(
            p.problems[0].message.contains("does not exist"),
            "{:#?}",
            p.problems
        );
    }

    #[test]
    fn no_playlist_is_an_empty_day() {
        let p = plan_day(date(2026, 1, 20), None, &media, &settings());
        assert!(p.broadcasts.is_empty() && p.problems.is_empty() && p.source.is_none());
    }

    #[test]
    fn a_year_of_days_plans_without_surprises() {
        let mut morning = broadcast(
            0,
            "05:30",
            vec![item("jingle.mp3", 3), item("news1.mp3", 3)],
        );
        morning.days = Some(vec![Weekday::Monday, Weekday::Wednesday, Weekday::Friday]);
        let evening = broadcast(
            1,
            "17:00",
            vec![item("jingle.mp3", 13), item("news2.mp3", 13)],
        );
        let pl = playlist(vec![morning, evening]);
        let mut d = date(2026, 1, 1);
        let mut total = 0;
        for _ in 0..365 {
            let p = plan_day(d, Some(&pl), &media, &settings());
            assert!(p.problems.is_empty());
            let expect = if matches!(
                d.weekday(),
                Weekday::Monday | Weekday::Wednesday | Weekday::Friday
            ) {
                2
            } else {
                1
            };
            assert_eq!(p.broadcasts.len(), expect, "{d}");
            total += p.broadcasts.len();
            d = d.tomorrow().unwrap();
        }
        assert_eq!(total, 365 + 156);
    }

    #[test]
    fn time_is_local_and_never_utc_by_accident() {
        let t: Timestamp = "2026-01-19T22:59:57Z".parse().unwrap();
        assert_eq!(local_time(t, &settings().tz), "05:59:57");
        let _ = Time::midnight();
    }
}
