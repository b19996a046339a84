//! [`build`]: the report's figures from the as-run rows and the schedule.
//! Pure: the caller reads the log and plans the days.
//!
//! The rules:
//! - a scheduled broadcast is one of the day's plan whose time has come
//!   (by `now`), or one the as-run log has playlist rows for (the playlist
//!   may have changed since); it aired when at least one of its items went
//!   out (played, or cut off after some time on air);
//! - a scheduled broadcast the log says nothing about, whose time has
//!   passed since the service first ran, was missed: loa was not running
//!   (its items count as missed); before that, loa was not installed;
//! - bulletins are items played to their end that are not jingles
//!   ([`super::Station::jingles`]); time on air counts every item that
//!   went out, jingles and interrupted items included;
//! - an item counts under each tag of its broadcast (so phases may add up
//!   to more than the total); untagged items under "(không có chủ đề)";
//! - `loa now` and `loa queue` airings outside a scheduled broadcast are
//!   counted apart (`extra_broadcasts`), never against the schedule;
//! - a broadcast's planned length is the day plan's (first item's start to
//!   last item's end); for one the plan no longer has (the playlist
//!   changed), its time on air;
//! - an item counts for a zone when its row names the zone (rows from
//!   before zones existed name none, and count for no zone); narrowed to
//!   a zone, a scheduled broadcast counts when its rows name the zone, or,
//!   when the log has no row of it, when its plan does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::text::{self, duration, is_jingle, is_relayed};
use super::{
    Aired, Day, Emergency, Figures, Filter, Line, Phase, PriorityLine, Problem, ProblemItem,
    Report, Station, ZoneLine,
};
use crate::asrun::report::on_air_ms;
use crate::asrun::{ItemRecord, Priority, Row, Status};
use crate::lang::Lang;
use crate::schedule::local_time;
use crate::tr;

/// One broadcast of a day's plan, as the report needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheduled {
    /// Its as-run key (`schedule::agenda::broadcast_key`).
    pub key: String,
    /// Its title, if the playlist gives one.
    pub title: Option<String>,
    /// When its first item starts.
    pub at: Timestamp,
    /// Its planned length, first item's start to last item's end.
    pub planned_ms: i64,
    /// Its tags.
    pub tags: Vec<String>,
    /// The zones it airs to, by name (empty when none is configured).
    pub zones: Vec<String>,
    /// Its items' files, in airing order.
    pub files: Vec<String>,
}

/// Everything [`build`] reads.
#[derive(Clone, Debug)]
pub struct Inputs<'a> {
    /// The operator's language.
    pub lang: Lang,
    /// `[station]`.
    pub station: Station,
    /// The time zone's name.
    pub timezone: String,
    /// The time zone.
    pub tz: TimeZone,
    /// Now: the report's date, and which broadcasts' time has come.
    pub now: Timestamp,
    /// The first day asked for.
    pub from: Date,
    /// The last day asked for.
    pub to: Date,
    /// The as-run rows (any range: those outside are ignored).
    pub rows: &'a [Row],
    /// The plan of each day shown (days missing here have none).
    pub schedule: BTreeMap<Date, Vec<Scheduled>>,
    /// When the service first ran ([`crate::asrun::AsRun::installed_at`]):
    /// planned broadcasts before it (or all, when it never ran) count only
    /// by their as-run rows, never as missed.
    pub installed: Option<Timestamp>,
    /// The playlists' `[tags]` names.
    pub tag_names: BTreeMap<String, String>,
    /// The configured zones, (name, title), in the config's order (empty:
    /// none, and the report has no per-zone section).
    pub zones: Vec<(String, String)>,
    /// What the report is narrowed to.
    pub filter: Filter,
    /// `[schedule] late-grace`, for the reason a broadcast was missed.
    pub late_grace: Duration,
    /// `[schedule] require-clock-sync`.
    pub require_clock_sync: bool,
    /// Milliseconds archived and recordings, when known.
    pub archived: Option<(i64, usize)>,
}

/// An as-run row, with what the report derives from it.
struct Item<'a> {
    r: &'a ItemRecord,
    jingle: bool,
    relayed: bool,
    on_air: i64,
}

impl Item<'_> {
    /// Something of it went out.
    fn aired(&self) -> bool {
        self.r.status == Status::Played || (self.r.status == Status::Interrupted && self.on_air > 0)
    }
}

/// Figures being gathered.
#[derive(Default)]
struct Tally {
    f: Figures,
    planned: HashSet<(Date, String)>,
    aired: HashSet<(Date, String)>,
    extra: HashSet<(Date, String)>,
}

impl Tally {
    fn plan(&mut self, day: Date, key: &str, planned_ms: i64) {
        if self.planned.insert((day, key.to_string())) {
            self.f.planned_broadcasts += 1;
            self.f.planned_ms += planned_ms;
        }
    }

    /// An item; `scheduled` says whether its broadcast is on the schedule.
    fn item(&mut self, i: &Item<'_>, scheduled: bool) {
        let f = &mut self.f;
        match i.r.status {
            Status::Played if i.jingle => f.jingles += 1,
            Status::Played => f.bulletins += 1,
            Status::Missed => f.missed += 1,
            Status::Failed => f.failed += 1,
            Status::Interrupted => f.interrupted += 1,
            Status::Skipped => f.skipped += 1,
        }
        if i.aired() {
            f.aired_ms += i.on_air;
            if i.relayed {
                f.relayed_ms += i.on_air;
            }
            let key = (i.r.day, i.r.broadcast_key.clone());
            if scheduled {
                if self.aired.insert(key) {
                    f.aired_broadcasts += 1;
                }
            } else if self.extra.insert(key) {
                f.extra_broadcasts += 1;
            }
        }
    }

    /// A scheduled broadcast the log has nothing of: its items missed.
    fn unlogged(&mut self, s: &Scheduled) {
        self.f.missed += s.files.len();
    }
}

/// One day's scheduled broadcasts and rows, after the filter.
struct DayData<'a> {
    date: Date,
    /// Scheduled broadcasts: key → (plan, if the day's plan has it).
    scheduled: BTreeMap<String, Option<&'a Scheduled>>,
    items: Vec<Item<'a>>,
    /// Scheduled broadcasts the log has no row of.
    unlogged: Vec<&'a Scheduled>,
}

impl DayData<'_> {
    fn tally(&self, t: &mut Tally, keep: impl Fn(&[String]) -> bool) {
        for (key, plan) in &self.scheduled {
            match plan {
                Some(p) if keep(&p.tags) => t.plan(self.date, key, p.planned_ms),
                Some(_) => {}
                None => {
                    let rows: Vec<&Item> = self
                        .items
                        .iter()
                        .filter(|i| &i.r.broadcast_key == key)
                        .collect();
                    if rows.first().is_some_and(|i| keep(&i.r.tags)) {
                        t.plan(self.date, key, rows.iter().map(|i| i.on_air).sum());
                    }
                }
            }
        }
        for i in self.items.iter().filter(|i| keep(&i.r.tags)) {
            t.item(i, self.scheduled.contains_key(&i.r.broadcast_key));
        }
        for s in self.unlogged.iter().filter(|s| keep(&s.tags)) {
            t.unlogged(s);
        }
    }
}

/// Whether a row belongs to a scheduled broadcast: a playlist item.
fn on_schedule(r: &ItemRecord) -> bool {
    r.priority == Priority::Normal && r.scheduled.is_some()
}

/// The report.
pub fn build(inp: &Inputs<'_>) -> Report {
    let lang = inp.lang;
    let tz = &inp.tz;
    let made_on = tz.to_offset(inp.now).to_datetime(inp.now).date();
    let last = inp.to.min(made_on);
    let tag_ok = |tags: &[String]| match &inp.filter.tag {
        Some((t, _)) => tags.iter().any(|x| x == t),
        None => true,
    };
    let mut days_data: Vec<DayData> = Vec::new();
    let mut d = inp.from;
    while d <= last {
        days_data.push(day_data(inp, d, &tag_ok));
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }

    let mut total = Tally::default();
    let days: Vec<Day> = days_data
        .iter()
        .map(|dd| {
            let mut t = Tally::default();
            dd.tally(&mut t, |_| true);
            dd.tally(&mut total, |_| true);
            Day {
                date: dd.date,
                figures: t.f,
            }
        })
        .collect();

    let phases = phases(inp, &days_data);
    let priorities = Priority::ALL
        .into_iter()
        .map(|p| {
            let mut keys = HashSet::new();
            let mut line = PriorityLine {
                priority: p,
                broadcasts: 0,
                bulletins: 0,
                aired_ms: 0,
            };
            for i in days_data.iter().flat_map(|d| &d.items) {
                if i.r.priority != p || !i.aired() {
                    continue;
                }
                if keys.insert((i.r.day, i.r.broadcast_key.clone())) {
                    line.broadcasts += 1;
                }
                line.bulletins += usize::from(i.r.status == Status::Played && !i.jingle);
                line.aired_ms += i.on_air;
            }
            line
        })
        .collect();
    let emergencies = days_data
        .iter()
        .flat_map(|d| &d.items)
        .filter(|i| i.r.priority == Priority::Emergency)
        .map(|i| Emergency {
            day: i.r.day,
            time: i
                .r
                .started
                .or(i.r.scheduled)
                .map(|t| local_time(t, tz))
                .unwrap_or_default(),
            file: i.r.file.clone(),
            status: i.r.status,
            aired_ms: i.on_air,
        })
        .collect();
    let problems = days_data.iter().flat_map(|d| problems(inp, d)).collect();
    let aired = aired_list(days_data.iter().flat_map(|d| &d.items));
    let lines: Vec<Line> = days_data
        .iter()
        .flat_map(|d| &d.items)
        .map(|i| Line {
            record: i.r.clone(),
            time: i
                .r
                .started
                .or(i.r.scheduled)
                .map(|t| local_time(t, tz))
                .unwrap_or_default(),
            aired_ms: i.on_air,
            reason: reason(i.r, inp.late_grace, lang),
            jingle: i.jingle,
            relayed: i.relayed,
        })
        .collect();
    let unsynced_rows = lines.iter().filter(|l| !l.record.clock_synced).count();
    let zones = zone_lines(inp, &days_data);
    Report {
        lang,
        station: inp.station.clone(),
        timezone: inp.timezone.clone(),
        tz: inp.tz.clone(),
        made_on,
        from: inp.from,
        to: inp.to,
        filter: inp.filter.clone(),
        days,
        total: total.f,
        phases,
        priorities,
        emergencies,
        zones,
        problems,
        aired,
        lines,
        unsynced_rows,
        require_clock_sync: inp.require_clock_sync,
        archived: inp.archived,
    }
}

/// Per configured zone (only the one narrowed to, if any), in the
/// config's order: what aired to it.
fn zone_lines(inp: &Inputs<'_>, days: &[DayData<'_>]) -> Vec<ZoneLine> {
    let asked = inp.filter.zone.as_ref().map(|(z, _)| z);
    inp.zones
        .iter()
        .filter(|(name, _)| asked.is_none_or(|z| z == name))
        .map(|(name, title)| {
            let mut keys = HashSet::new();
            let mut line = ZoneLine {
                name: name.clone(),
                title: title.clone(),
                broadcasts: 0,
                items: 0,
                bulletins: 0,
                aired_ms: 0,
            };
            for i in days.iter().flat_map(|d| &d.items) {
                if !i.aired() || !i.r.zones.contains(name) {
                    continue;
                }
                if keys.insert((i.r.day, i.r.broadcast_key.clone())) {
                    line.broadcasts += 1;
                }
                if i.r.status == Status::Played {
                    line.items += 1;
                    line.bulletins += usize::from(!i.jingle);
                }
                line.aired_ms += i.on_air;
            }
            line
        })
        .collect()
}

/// One day's broadcasts and rows, narrowed by `tag_ok` and the zone.
fn day_data<'a>(inp: &'a Inputs<'_>, d: Date, tag_ok: &impl Fn(&[String]) -> bool) -> DayData<'a> {
    let zone = inp.filter.zone.as_ref().map(|(z, _)| z);
    let zone_ok = |zones: &[String]| zone.is_none_or(|z| zones.contains(z));
    let items: Vec<Item> = inp
        .rows
        .iter()
        .map(|r| &r.record)
        .filter(|r| r.day == d && tag_ok(&r.tags) && zone_ok(&r.zones))
        .map(|r| Item {
            r,
            jingle: is_jingle(&r.file, &inp.station.jingles),
            relayed: r.kind != crate::asrun::Kind::File || is_relayed(&r.file),
            on_air: if matches!(r.status, Status::Played | Status::Interrupted) {
                on_air_ms(r)
            } else {
                0
            },
        })
        .collect();
    let mut scheduled: BTreeMap<String, Option<&Scheduled>> = BTreeMap::new();
    let mut unlogged = Vec::new();
    for s in inp.schedule.get(&d).into_iter().flatten() {
        let before_install = inp.installed.is_none_or(|i| s.at < i);
        if s.at > inp.now || before_install || !tag_ok(&s.tags) {
            continue;
        }
        let logged = items.iter().any(|i| i.r.broadcast_key == s.key);
        // Narrowed to a zone: the log says where a broadcast went; its
        // plan, only when the log has nothing of it.
        if let Some(z) = zone
            && !logged
        {
            let elsewhere = inp
                .rows
                .iter()
                .map(|r| &r.record)
                .any(|r| r.day == d && r.broadcast_key == s.key && tag_ok(&r.tags));
            if elsewhere || !s.zones.contains(z) {
                continue;
            }
        }
        scheduled.insert(s.key.clone(), Some(s));
        if !logged {
            unlogged.push(s);
        }
    }
    for i in items.iter().filter(|i| on_schedule(i.r)) {
        scheduled.entry(i.r.broadcast_key.clone()).or_insert(None);
    }
    DayData {
        date: d,
        scheduled,
        items,
        unlogged,
    }
}

/// Per phase, in the order phases first appear (rows, then plans); the
/// untagged last when there are any.
fn phases(inp: &Inputs<'_>, days: &[DayData<'_>]) -> Vec<Phase> {
    let mut order: Vec<String> = Vec::new();
    let mut untagged = false;
    let mut see = |tags: &[String]| {
        for t in tags {
            if !order.contains(t) {
                order.push(t.clone());
            }
        }
        untagged |= tags.is_empty();
    };
    for d in days {
        d.items.iter().for_each(|i| see(&i.r.tags));
        d.scheduled.values().flatten().for_each(|s| see(&s.tags));
    }
    let name = |t: &str| {
        inp.tag_names
            .get(t)
            .cloned()
            .unwrap_or_else(|| text::readable_tag(t))
    };
    let mut out: Vec<Phase> = order
        .iter()
        .map(|tag| {
            let mut t = Tally::default();
            for d in days {
                d.tally(&mut t, |tags| tags.contains(tag));
            }
            Phase {
                tag: Some(tag.clone()),
                name: name(tag),
                figures: t.f,
            }
        })
        .collect();
    if untagged {
        let mut t = Tally::default();
        for d in days {
            d.tally(&mut t, <[String]>::is_empty);
        }
        out.push(Phase {
            tag: None,
            name: inp.lang.pick("(không có chủ đề)", "(no phase)").to_string(),
            figures: t.f,
        });
    }
    out
}

/// The day's scheduled broadcasts with missed or failed items, in time
/// order, and those the log has nothing of.
fn problems(inp: &Inputs<'_>, d: &DayData<'_>) -> Vec<Problem> {
    let lang = inp.lang;
    let mut by_key: BTreeMap<(Timestamp, String), Problem> = BTreeMap::new();
    let hhmm = |t: Timestamp| local_time(t, &inp.tz)[..5].to_string();
    for i in d
        .items
        .iter()
        .filter(|i| matches!(i.r.status, Status::Missed | Status::Failed))
    {
        let at =
            i.r.scheduled
                .or(i.r.started)
                .unwrap_or(Timestamp::UNIX_EPOCH);
        let first = d
            .items
            .iter()
            .filter(|o| o.r.broadcast_key == i.r.broadcast_key)
            .filter_map(|o| o.r.scheduled.or(o.r.started))
            .min()
            .unwrap_or(at);
        let p = by_key
            .entry((first, i.r.broadcast_key.clone()))
            .or_insert_with(|| Problem {
                day: d.date,
                time: hhmm(first),
                title: i.r.broadcast.clone().unwrap_or_else(|| match i.r.priority {
                    Priority::Normal => hhmm(first),
                    Priority::Priority => lang.pick("Phát ưu tiên", "Priority item").into(),
                    Priority::Emergency => lang.pick("Phát khẩn cấp", "Emergency").into(),
                }),
                items: Vec::new(),
            });
        p.items.push(ProblemItem {
            file: i.r.file.clone(),
            status: i.r.status,
            reason: reason(i.r, inp.late_grace, lang),
        });
    }
    for s in &d.unlogged {
        let why = tr!(
            lang,
            "Máy không hoạt động vào giờ phát (nhật ký phát không ghi gì về buổi này)",
            "The box was not running at the broadcast's time (the as-run log has nothing of this broadcast)"
        );
        by_key.insert(
            (s.at, s.key.clone()),
            Problem {
                day: d.date,
                time: hhmm(s.at),
                title: s.title.clone().unwrap_or_else(|| hhmm(s.at)),
                items: s
                    .files
                    .iter()
                    .map(|f| ProblemItem {
                        file: f.clone(),
                        status: Status::Missed,
                        reason: why.clone(),
                    })
                    .collect(),
            },
        );
    }
    by_key.into_values().collect()
}

/// Why an item was missed, failed or cut off, in plain words.
pub fn reason(r: &ItemRecord, late_grace: Duration, lang: Lang) -> String {
    let grace = duration(late_grace.as_millis() as i64, lang);
    match r.status {
        Status::Missed if !r.clock_synced => tr!(
            lang,
            "Đồng hồ của máy chưa được đồng bộ vào giờ phát (quá {grace} cho phép phát bù)",
            "The box's clock was not synchronised at the broadcast's time (more than the {grace} allowed for a late start)"
        ),
        Status::Missed => tr!(
            lang,
            "Máy không hoạt động vào giờ phát (quá {grace} cho phép phát bù)",
            "The box was not running at the broadcast's time (more than the {grace} allowed for a late start)"
        ),
        _ => crate::cli::log::reason(
            &Row {
                id: 0,
                record: r.clone(),
            },
            lang,
        ),
    }
}

/// The bulletins aired, most aired first, then by title.
fn aired_list<'a>(items: impl Iterator<Item = &'a Item<'a>>) -> Vec<Aired> {
    let mut by_file: HashMap<&str, Aired> = HashMap::new();
    for i in items.filter(|i| i.aired() && !i.jingle) {
        let a = by_file.entry(i.r.file.as_str()).or_insert_with(|| Aired {
            title: text::title_of(&i.r.file),
            file: i.r.file.clone(),
            times: 0,
            aired_ms: 0,
        });
        a.times += usize::from(i.r.status == Status::Played);
        a.aired_ms += i.on_air;
    }
    let mut v: Vec<Aired> = by_file.into_values().collect();
    v.sort_by(|a, b| b.times.cmp(&a.times).then_with(|| a.title.cmp(&b.title)));
    v
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn the_sample_month_adds_up() {
        let rows = sample::rows();
        let r = build(&sample::inputs(&rows));
        assert_eq!(r.days.len(), 30);
        let t = &r.total;
        assert_eq!((t.aired_broadcasts, t.planned_broadcasts), (57, 60));
        assert_eq!(
            text::headline(t, Lang::Vi),
            "Đã phát 57/60 buổi theo lịch (95,0%)"
        );
        // 27 mornings with a bulletin, 29 evenings.
        assert_eq!(
            t.bulletins,
            27 + 29 + 1 + 1,
            "the VOV relay and the emergency count"
        );
        assert_eq!(t.jingles, 28);
        assert_eq!(t.extra_broadcasts, 1);
        assert_eq!(t.relayed_ms, 600_000);
        // 2 missed on the 5th, 2 on the 28th (nothing logged); 1 failed.
        assert_eq!((t.missed, t.failed), (4, 1));
        let aired_s = 27 * 120 + 29 * 120 + 630 + 45;
        assert_eq!(t.aired_ms, aired_s * 1000);
        assert_eq!(t.planned_ms, 60 * 120_000);
        let d5 = &r.days[4].figures;
        assert_eq!(
            (d5.aired_broadcasts, d5.planned_broadcasts, d5.missed),
            (1, 2, 2)
        );
        assert_eq!(r.phases[0].name, "Trước Đại hội");
        assert_eq!(r.phases[0].figures.planned_broadcasts, 30);
        assert_eq!(r.phases[0].figures.aired_broadcasts, 28);
        assert_eq!(r.phases[1].name, "(không có chủ đề)");
        assert_eq!(r.priorities[2].broadcasts, 1);
        assert_eq!(r.emergencies.len(), 1);
        assert_eq!(r.emergencies[0].time, "10:15:00");
        let p: Vec<(String, String, usize)> = r
            .problems
            .iter()
            .map(|p| {
                (
                    text::short_date(p.day, Lang::Vi),
                    p.time.clone(),
                    p.items.len(),
                )
            })
            .collect();
        assert_eq!(
            p,
            [
                ("05/11/2026".into(), "06:00".into(), 2),
                ("12/11/2026".into(), "17:00".into(), 1),
                ("28/11/2026".into(), "06:00".into(), 2),
            ]
        );
        assert_eq!(
            r.problems[0].items[0].reason,
            "Máy không hoạt động vào giờ phát (quá 10 phút cho phép phát bù)"
        );
        assert_eq!(r.aired[0].title, "ban-tin-2");
        assert_eq!(r.aired[0].times, 29);
        assert!(
            r.aired.iter().all(|a| a.title != "nhac-hieu"),
            "jingles are not bulletins"
        );
    }

    #[test]
    fn days_after_today_are_not_shown() {
        let now = sample::at(10, "12:00:00", 0);
        let rows: Vec<Row> = sample::rows()
            .into_iter()
            .filter(|r| r.record.scheduled.or(r.record.started) <= Some(now))
            .collect();
        let mut inp = sample::inputs(&rows);
        inp.now = now;
        let r = build(&inp);
        assert_eq!(r.days.len(), 10);
        // The 10th's evening has not come: 19 scheduled so far.
        assert_eq!(r.total.planned_broadcasts, 19);
        assert_eq!(r.shown_to(), jiff::civil::date(2026, 11, 10));
    }

    #[test]
    fn nothing_counts_as_missed_before_the_service_first_ran() {
        let rows = sample::rows();
        let mut inp = sample::inputs(&rows);
        // Installed on the 28th at noon: the 28th's morning (nothing
        // logged) was before it.
        inp.installed = Some(sample::at(28, "12:00:00", 0));
        let r = build(&inp);
        assert_eq!(
            (r.total.aired_broadcasts, r.total.planned_broadcasts),
            (57, 59)
        );
        assert_eq!(r.problems.len(), 2);
        inp.installed = None;
        assert_eq!(build(&inp).total.planned_broadcasts, 59);
    }

    #[test]
    fn a_period_with_no_data() {
        let mut inp = sample::inputs(&[]);
        inp.schedule.clear();
        let r = build(&inp);
        assert_eq!(r.total, Figures::default());
        assert!(r.problems.is_empty() && r.aired.is_empty() && r.phases.is_empty());
        assert_eq!(
            text::headline(&r.total, Lang::Vi),
            "Không có buổi phát nào theo lịch trong khoảng thời gian này"
        );
    }

    #[test]
    fn narrowed_to_a_phase() {
        let rows = sample::rows();
        let mut inp = sample::inputs(&rows);
        inp.filter.tag = Some(("truoc-dai-hoi".into(), "Trước Đại hội".into()));
        let r = build(&inp);
        assert_eq!(
            (r.total.aired_broadcasts, r.total.planned_broadcasts),
            (28, 30)
        );
        assert!(r.emergencies.is_empty());
    }

    /// (name, broadcasts, items, bulletins, seconds on air) per zone line.
    fn zone_figures(r: &Report) -> Vec<(&str, usize, usize, usize, i64)> {
        r.zones
            .iter()
            .map(|z| {
                let s = z.aired_ms / 1000;
                (z.name.as_str(), z.broadcasts, z.items, z.bulletins, s)
            })
            .collect()
    }

    #[test]
    fn time_on_air_per_zone() {
        let rows = sample::zoned_rows();
        let r = build(&sample::zoned_inputs(&rows));
        // From the 4th: 25 mornings aired (the 5th missed, the 28th not
        // logged; the 25th's a 10-minute relay), and the emergency, to
        // thon-1 and thon-2; 26 evenings (the 12th failed) to thon-2.
        // The first three days' rows name no zone: they count for none.
        let mornings = 24 * 120 + 630 + 45;
        assert_eq!(
            zone_figures(&r),
            [
                ("thon-1", 26, 51, 26, mornings),
                ("thon-2", 52, 77, 52, mornings + 26 * 120),
                ("thon-3", 0, 0, 0, 0),
            ]
        );
        assert_eq!(r.zones[0].title, "Thôn Đông");
        // The rest of the report is as without zones.
        let plain = build(&sample::inputs(&rows));
        assert_eq!(r.total, plain.total);
        assert_eq!(plain.total.aired_ms, (mornings + 26 * 120 + 3 * 240) * 1000);
        assert!(plain.zones.is_empty(), "no zones configured, no section");
    }

    #[test]
    fn narrowed_to_a_zone() {
        let rows = sample::zoned_rows();
        let mut inp = sample::zoned_inputs(&rows);
        inp.filter.zone = Some(("thon-2".into(), "Thôn Tây".into()));
        let r = build(&inp);
        // The 4th to the 30th: 27 mornings and 27 evenings; the 28th's
        // morning (nothing logged) counts by its plan, which names
        // thon-2; the first three days' rows name no zone.
        let t = &r.total;
        assert_eq!((t.aired_broadcasts, t.planned_broadcasts), (51, 54));
        assert_eq!((t.extra_broadcasts, t.missed, t.failed), (1, 4, 1));
        assert_eq!(t.aired_ms, r.zones[0].aired_ms);
        assert_eq!(zone_figures(&r), [("thon-2", 52, 77, 52, 6675)]);
        assert_eq!(r.problems.len(), 3);
        assert_eq!(
            text::narrowed(&r).as_deref(),
            Some("Chỉ tính: vùng thon-2 (Thôn Tây).")
        );

        // thon-1 has no evenings: none is planned, none missed.
        inp.filter.zone = Some(("thon-1".into(), "Thôn Đông".into()));
        let r = build(&inp);
        let t = &r.total;
        assert_eq!((t.aired_broadcasts, t.planned_broadcasts), (25, 27));
        assert_eq!((t.missed, t.failed), (4, 0));
        assert_eq!(r.problems.len(), 2, "the 5th's and the 28th's mornings");

        // thon-3 had nothing: nothing planned, nothing missed (the 28th's
        // plan names the others).
        inp.filter.zone = Some(("thon-3".into(), "Thôn Bắc".into()));
        let r = build(&inp);
        assert_eq!(r.total, Figures::default());
        assert!(r.problems.is_empty() && r.lines.is_empty());
        assert_eq!(zone_figures(&r), [("thon-3", 0, 0, 0, 0)]);
    }
}
