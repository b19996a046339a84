//! `loa play FILE... [--no-relay]`: a broadcast now, through the same safety
//! sequence as the schedule, with a progress line per item. Exit 0 when every
//! item played, 1 when any did not (the others still play).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::context;
use super::exit;
use crate::air::{self, AirEvents, AirItem, ItemReport, Job, Outcome, Seams};
use crate::config::Config;
use crate::duration;
use crate::lang::Lang;
use crate::player::AudioError;
use crate::relay;
use crate::schedule::clock::{Clock, SystemClock};
use crate::schedule::local_time;
use crate::schedule::timeline::{Timeline, Timing};
use crate::shutdown::Shutdown;
use crate::tr;

/// `loa play`: the files now, through the airing sequence; the exit code.
pub fn run(config: Option<&Path>, files: &[String], no_relay: bool, slot: Option<&str>) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    let lives = match live_args(files, slot, lang) {
        Ok(l) => l,
        Err(msg) => {
            eprintln!("{msg}");
            return exit::CONFIG;
        }
    };
    run_items(&cfg, no_relay, |cfg| {
        let mut items = air::prepare_files(cfg, files);
        for (i, live) in lives.into_iter().enumerate() {
            if let Some(live) = live {
                items[i] = AirItem::live(&files[i], live, None, &cfg.audio, 0.0);
            }
        }
        items
    })
}

/// How long before its slot a live programme that airs first is
/// connected, when the warm-up is shorter.
const LIVE_PREROLL: Duration = Duration::from_millis(1500);

/// Which of `files` are live programmes (an http(s) address, or
/// `line-in:DEVICE`), each for `--for`; the message when one is wrong.
fn live_args(
    files: &[String],
    slot: Option<&str>,
    lang: crate::lang::Lang,
) -> Result<Vec<Option<crate::live::Live>>, String> {
    let slot = crate::live::parse_slot(slot, lang)?;
    files
        .iter()
        .map(|f| crate::live::parse_arg(f, slot, lang))
        .collect()
}

/// Airs the items `prepare` gives (made once the relay is safely off),
/// through the airing sequence, with a progress line per item; the exit
/// code. `loa play` and `loa archive play` both come here.
pub fn run_items(
    cfg: &Config,
    no_relay: bool,
    prepare: impl FnOnce(&Config) -> Vec<AirItem>,
) -> i32 {
    let lang = cfg.lang;
    relay::install_panic_hook();
    let shutdown = Shutdown::from_signals().unwrap_or_default();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    // The relay first: switched off before anything else happens.
    let guard = if no_relay {
        None
    } else {
        let opened = relay::open_guard(cfg, clock.clone());
        match opened {
            Ok(g) => Some(g),
            Err(e) => {
                eprintln!("{}", e.message(lang));
                return exit::PROBLEMS;
            }
        }
    };

    // `loa play` airs to every zone (the whole commune hears it).
    let every: Vec<String> = cfg.zones.iter().map(|z| z.name.clone()).collect();
    let items: Vec<AirItem> = prepare(cfg)
        .into_iter()
        .map(|i| i.to_zones(&every))
        .collect();
    // The relay goes on now; the items follow by the one timing rule.
    let timing = Timing {
        // A live programme first is connected (or its line opened) this
        // long before its slot, so that the slot starts on programme.
        warm_up: match (
            no_relay,
            items.first().is_some_and(|i| i.live_state().is_some()),
        ) {
            (true, false) => Duration::ZERO,
            (true, true) => LIVE_PREROLL,
            (false, false) => cfg.relay.warm_up,
            (false, true) => cfg.relay.warm_up.max(LIVE_PREROLL),
        },
        gap: cfg.audio.gap,
        hold: cfg.relay.hold,
    };
    let durations: Vec<Duration> = items
        .iter()
        .map(|i| i.duration.unwrap_or_default())
        .collect();
    let job = Job {
        timeline: Timeline::from_relay_on(clock.now(), &durations, timing),
        items,
        fade: cfg.audio.fade,
        lang,
        commands: None,
        keep_on: None,
    };
    let seams = Seams {
        relay: guard.clone(),
        output: crate::player::output(cfg),
        clock: clock.clone(),
        shutdown,
    };
    let mut printer = Printer::new(cfg, job.items.len());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return exit::PROBLEMS;
        }
    };
    let report = runtime.block_on(air::air(job, seams, &mut printer));
    drop(guard);

    let played = report
        .items
        .iter()
        .filter(|i| i.outcome == Outcome::Played)
        .count();
    let total = report.items.len();
    if let Some(e) = &report.relay_error {
        eprintln!("{e}");
    }
    println!(
        "{}",
        if report.shut_down {
            tr!(
                lang,
                "Đã dừng theo yêu cầu: phát được {played}/{total} tệp, ampli đã tắt.",
                "Stopped on request: {played} of {total} file(s) played, amplifier off."
            )
        } else if played == total {
            tr!(
                lang,
                "Xong: đã phát đủ {total} tệp.",
                "Done: all {total} file(s) played."
            )
        } else {
            tr!(
                lang,
                "Xong: đã phát {played}/{total} tệp; xem các lỗi ở trên.",
                "Done: {played} of {total} file(s) played; see the errors above."
            )
        }
    );
    if report.all_played() && report.relay_error.is_none() {
        exit::OK
    } else {
        exit::PROBLEMS
    }
}

/// Prints each step: relay edges, a progress line per item.
struct Printer {
    lang: Lang,
    tz: jiff::tz::TimeZone,
    tty: bool,
    total: usize,
    warm_up: Duration,
    last_draw: Option<Instant>,
}

impl Printer {
    fn new(cfg: &Config, total: usize) -> Printer {
        Printer {
            lang: cfg.lang,
            tz: cfg.tz.clone(),
            tty: std::io::stdout().is_terminal(),
            total,
            warm_up: cfg.relay.warm_up,
            last_draw: None,
        }
    }

    fn line(&self, index: usize, item: &AirItem, elapsed: Duration) -> String {
        let total = item
            .duration
            .map(duration::clock)
            .unwrap_or_else(|| "?".into());
        format!(
            "[{}/{}] {}  {} / {}",
            index + 1,
            self.total,
            item.name,
            duration::clock(elapsed),
            total
        )
    }
}

impl AirEvents for Printer {
    fn relay(&mut self, on: bool, at: Timestamp) {
        let t = local_time(at, &self.tz);
        let lang = self.lang;
        let warm = duration::human(self.warm_up, lang);
        println!(
            "{}",
            if on {
                tr!(
                    lang,
                    "{t}  BẬT AMPLI (chờ ổn định {warm})",
                    "{t}  RELAY ON (warm-up {warm})"
                )
            } else {
                tr!(lang, "{t}  TẮT AMPLI", "{t}  RELAY OFF")
            }
        );
    }

    fn item_started(&mut self, index: usize, item: &AirItem, _at: Timestamp) {
        if self.tty {
            print!("{}", self.line(index, item, Duration::ZERO));
            let _ = std::io::stdout().flush();
            self.last_draw = Some(Instant::now());
        }
    }

    fn progress(&mut self, index: usize, item: &AirItem, elapsed: Duration) {
        if self.tty
            && self
                .last_draw
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(500))
        {
            print!("\r{}", self.line(index, item, elapsed));
            let _ = std::io::stdout().flush();
            self.last_draw = Some(Instant::now());
        }
    }

    fn item_ended(&mut self, index: usize, item: &AirItem, report: &ItemReport) {
        let lang = self.lang;
        let elapsed = match (report.started, report.ended) {
            (Some(s), Some(e)) => {
                Duration::from_millis(e.as_millisecond().saturating_sub(s.as_millisecond()) as u64)
            }
            _ => Duration::ZERO,
        };
        let line = self.line(index, item, elapsed);
        let cr = if self.tty && report.started.is_some() {
            "\r"
        } else {
            ""
        };
        match &report.outcome {
            Outcome::Played => println!("{cr}{line}  {}", lang.pick("đã phát", "played")),
            Outcome::Interrupted(why) => {
                println!("{cr}{line}  {}", lang.pick("bị ngắt", "interrupted"));
                if !why.is_empty() {
                    eprintln!("{}: {why}", item.name);
                }
            }
            Outcome::Skipped => println!("{cr}{line}  {}", lang.pick("đã bỏ qua", "skipped")),
            Outcome::Failed(msg) => {
                println!(
                    "{cr}{line}  {}",
                    lang.pick("LỖI, đã bỏ qua", "FAILED, skipped")
                );
                eprintln!("{}: {msg}", item.name);
            }
            Outcome::NotAired(why) => println!(
                "{cr}{line}  {} ({why})",
                lang.pick("không phát", "not aired")
            ),
        }
    }

    fn device_error(&mut self, error: &AudioError) {
        eprintln!("{}", error.message(self.lang));
    }
}
