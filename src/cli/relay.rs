//! `loa relay on|off|status`: the installer's way to test the amplifier
//! wiring by hand. `off` also runs alone as systemd's ExecStopPost, after
//! SIGKILL or a crash, so it must work fast and on its own. It must never
//! leave the relay on when it returns: real GPIO is held on only while the
//! command runs (a released line may be reset by the kernel).

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::RelayAction;
use super::context;
use super::exit;
use crate::config::{Config, RelayBackend};
use crate::duration;
use crate::lang::Lang;
use crate::problem::display_path;
use crate::relay::{self, RelayGuard, sim};
use crate::schedule::clock::{Clock, SystemClock};
use crate::shutdown::Shutdown;
use crate::tr;

/// Runs `loa relay ACTION`; returns the exit code.
pub fn run(config: Option<&Path>, action: RelayAction) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    if let Some(z) = action.zone()
        && !cfg.zones.iter().any(|x| x.name == z)
    {
        let why = match crate::config::zone::resolve(&cfg.zones, &[z.to_string()], cfg.lang) {
            Err(why) => why,
            Ok(_) => String::new(),
        };
        eprintln!("{why}");
        return exit::PROBLEMS;
    }
    // While the service runs it owns the line: `on` and `off` ask it.
    if let Some(code) = super::control::relay(&cfg, &action) {
        return code;
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (mut out, mut err) = (io::stdout(), io::stderr());
    let code = match action {
        RelayAction::On { for_, zone } if cfg.relay.backend != RelayBackend::Sim => {
            let for_ = match parse_for(for_.as_deref(), cfg.lang) {
                Ok(d) => d,
                Err(msg) => {
                    eprintln!("{msg}");
                    return exit::CONFIG;
                }
            };
            let shutdown = match Shutdown::from_signals() {
                Ok(s) => s,
                Err(e) => {
                    let lang = cfg.lang;
                    eprintln!(
                        "{}",
                        tr!(
                            lang,
                            "Không theo dõi được tín hiệu Ctrl-C/SIGTERM ({e}), nên ampli chưa được bật.",
                            "cannot watch for Ctrl-C/SIGTERM ({e}); the relay was not switched on"
                        )
                    );
                    return exit::PROBLEMS;
                }
            };
            let zone = zone.and_then(|z| cfg.zones.iter().find(|x| x.name == z).cloned());
            hold_on(
                &cfg,
                for_,
                zone.as_ref(),
                clock,
                &shutdown,
                &mut out,
                &mut err,
            )
        }
        action => run_with(&cfg, action, clock, &mut out, &mut err),
    };
    let _ = out.flush();
    code
}

/// Everything but holding real GPIO on: `on`/`off` with the sim backend,
/// `off` and `status` with any. Writes what the operator reads to `out`,
/// errors to `err`.
pub fn run_with(
    cfg: &Config,
    action: RelayAction,
    clock: Arc<dyn Clock>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let lang = cfg.lang;
    let result = match action {
        RelayAction::On { for_, zone } => {
            if cfg.relay.backend != RelayBackend::Sim {
                let _ = writeln!(
                    err,
                    "{}",
                    tr!(
                        lang,
                        "Với GPIO thật, `loa relay on` phải giữ chân GPIO trong suốt thời gian chạy.",
                        "`loa relay on` with real GPIO must hold the line while it runs"
                    )
                );
                return exit::PROBLEMS;
            }
            if let Err(msg) = parse_for(for_.as_deref(), lang) {
                let _ = writeln!(err, "{msg}");
                return exit::CONFIG;
            }
            if for_.is_some() {
                let _ = writeln!(
                    out,
                    "{}",
                    tr!(
                        lang,
                        "(--for chỉ có tác dụng với GPIO thật; ampli giả lập giữ nguyên trạng thái BẬT cho đến khi chạy `loa relay off`.)",
                        "(--for is for real GPIO only; the simulated relay stays on until `loa relay off`)"
                    )
                );
            }
            sim_switch(cfg, true, zone_named(cfg, zone.as_deref()), clock, out)
        }
        RelayAction::Off { zone: Some(z) } if cfg.relay.backend == RelayBackend::Sim => {
            sim_switch(cfg, false, zone_named(cfg, Some(&z)), clock, out)
        }
        RelayAction::Off { zone: None } if cfg.relay.backend == RelayBackend::Sim => {
            // The amplifier first, then every zone's line.
            sim_switch(cfg, false, None, clock.clone(), out).and_then(|()| {
                cfg.zones
                    .iter()
                    .try_for_each(|z| sim_switch(cfg, false, Some(z), clock.clone(), out))
            })
        }
        RelayAction::Off { zone } => {
            hardware_off(cfg, zone_named(cfg, zone.as_deref()), clock, out)
        }
        RelayAction::Status { zone } => status(cfg, zone_named(cfg, zone.as_deref()), clock, out),
    };
    match result {
        Ok(()) => exit::OK,
        Err(msg) => {
            let _ = writeln!(err, "{msg}");
            exit::PROBLEMS
        }
    }
}

/// The zone `--zone` names (checked by `run`); None: the amplifier.
fn zone_named<'c>(cfg: &'c Config, zone: Option<&str>) -> Option<&'c crate::config::Zone> {
    zone.and_then(|z| cfg.zones.iter().find(|x| x.name == z))
}

/// What a switched line is called in messages: the simulated amplifier,
/// or a zone's relay.
fn sim_who(zone: Option<&crate::config::Zone>, lang: Lang) -> String {
    match zone {
        None => lang.pick("Ampli (giả lập)", "Simulated relay").to_string(),
        Some(z) => {
            let (title, name) = (&z.title, &z.name);
            tr!(
                lang,
                "Rơ-le vùng {title} ({name}, giả lập)",
                "Simulated relay of zone {name} ({title})"
            )
        }
    }
}

/// `--for`, when given.
fn parse_for(text: Option<&str>, lang: Lang) -> Result<Option<Duration>, String> {
    match text {
        None => Ok(None),
        Some(t) => duration::parse(t)
            .map(Some)
            .ok_or_else(|| duration::error_message("--for", t, lang)),
    }
}

fn on_word(on: bool, lang: Lang) -> &'static str {
    match (on, lang) {
        (true, Lang::Vi) => "BẬT",
        (false, Lang::Vi) => "TẮT",
        (true, Lang::En) => "ON",
        (false, Lang::En) => "OFF",
    }
}

/// The sim backend: switches the amplifier (or `zone`'s relay) and
/// returns; the sim-file keeps the state.
fn sim_switch(
    cfg: &Config,
    on: bool,
    zone: Option<&crate::config::Zone>,
    clock: Arc<dyn Clock>,
    out: &mut dyn Write,
) -> Result<(), String> {
    let lang = cfg.lang;
    let word = on_word(on, lang);
    let who = sim_who(zone, lang);
    let name = zone.map(|z| z.name.as_str());
    let file = cfg.relay.sim_file.clone();
    let before = file
        .as_deref()
        .and_then(|p| sim::last_edge(p, name).ok().flatten());
    // Switching on takes the relay's lock like any other driver (refused
    // while `loa play` holds it); off never waits for it.
    let _lock = if on {
        Some(relay::lock::RelayLock::take(&cfg.paths.state).map_err(|e| e.message(lang))?)
    } else {
        None
    };
    let mut r = match name {
        None => sim::SimRelay::new(file.clone(), cfg.tz.clone(), clock),
        Some(z) => sim::SimRelay::for_zone(file.clone(), cfg.tz.clone(), clock, z),
    };
    relay::Relay::set(&mut r, on).map_err(|e| e.message(lang))?;
    let text = match file {
        None => tr!(
            lang,
            "{who}: {word}. Vì không có [relay] sim-file nên việc này chỉ được ghi vào nhật ký hệ thống; trạng thái không được lưu lại.",
            "{who}: {word}. There is no [relay] sim-file, so this is only logged; nothing keeps the state."
        ),
        Some(p) => {
            let shown = display_path(&p);
            match before {
                Some(b) if b.on == on => {
                    let stamp = b.stamp;
                    let local = local_stamp(b.at, &cfg.tz, lang);
                    tr!(
                        lang,
                        "{who} đã {word} từ trước (từ lúc {local}); {shown} giữ nguyên.",
                        "{who} was already {word} (since {stamp}); {shown} is unchanged."
                    )
                }
                _ if on => tr!(
                    lang,
                    "{who}: {word}, đã ghi vào {shown}. Nó giữ nguyên trạng thái BẬT cho đến khi chạy `loa relay off`.",
                    "{who}: {word}, recorded in {shown}. It stays on until `loa relay off`."
                ),
                _ => tr!(
                    lang,
                    "{who}: {word}, đã ghi vào {shown}.",
                    "{who}: {word}, recorded in {shown}."
                ),
            }
        }
    };
    let _ = writeln!(out, "{text}");
    Ok(())
}

/// `off` on real GPIO: request the line (which already drives it off),
/// drive it off, release it; the amplifier's, then every zone's (or only
/// `zone`'s). No guard, no watchdog thread: this must be fast. Every line
/// is tried even when one fails; the first failure is returned.
fn hardware_off(
    cfg: &Config,
    zone: Option<&crate::config::Zone>,
    clock: Arc<dyn Clock>,
    out: &mut dyn Write,
) -> Result<(), String> {
    let lang = cfg.lang;
    let mut first: Result<(), String> = Ok(());
    let mut line_off = |opened: Result<Box<dyn relay::Relay>, relay::RelayError>,
                        z: Option<&crate::config::Zone>,
                        out: &mut dyn Write| {
        let done = opened.and_then(|mut r| {
            let what = r.describe();
            r.set(false).map(|()| what)
        });
        match (done, z) {
            (Ok(what), None) => {
                let _ = writeln!(
                    out,
                    "{}",
                    tr!(
                        lang,
                        "Ampli: TẮT. Chân {what} đã được đưa về mức tắt và được nhả ra.",
                        "Relay: OFF. {what} was driven off and released."
                    )
                );
            }
            (Ok(what), Some(z)) => {
                let (title, name) = (&z.title, &z.name);
                let _ = writeln!(
                    out,
                    "{}",
                    tr!(
                        lang,
                        "Vùng {title} ({name}): TẮT. Chân {what} đã được đưa về mức tắt và được nhả ra.",
                        "Zone {name} ({title}): OFF. {what} was driven off and released."
                    )
                );
            }
            (Err(e), _) => {
                if first.is_ok() {
                    first = Err(e.message(lang));
                }
            }
        }
    };
    // Off is always the safe direction: no lock is needed for it (the
    // lock's holder may be a service that died mid-broadcast).
    match zone {
        Some(z) => line_off(relay::open_zone(cfg, z, clock), Some(z), out),
        None => {
            line_off(relay::open_unlocked(cfg, clock.clone()), None, out);
            for z in &cfg.zones {
                line_off(relay::open_zone(cfg, z, clock.clone()), Some(z), out);
            }
        }
    }
    first
}

/// `on` on real GPIO: holds the amplifier's line (or `zone`'s) on until
/// Ctrl-C/SIGTERM, or `for_`, never longer than max-on; then every line off.
pub fn hold_on(
    cfg: &Config,
    for_: Option<Duration>,
    zone: Option<&crate::config::Zone>,
    clock: Arc<dyn Clock>,
    shutdown: &Shutdown,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let lang = cfg.lang;
    relay::install_panic_hook();
    let guard = match relay::open_guard(cfg, clock) {
        Ok(g) => g,
        Err(e) => {
            let _ = writeln!(err, "{}", e.message(lang));
            return exit::PROBLEMS;
        }
    };
    let held = Held {
        for_,
        zone,
        max_on: cfg.relay.max_on,
    };
    match hold(&guard, &held, shutdown, lang, out) {
        Ok(()) => exit::OK,
        Err(e) => {
            let _ = writeln!(err, "{}", e.message(lang));
            exit::PROBLEMS
        }
    }
}

/// What `loa relay on` holds, and for how long.
struct Held<'z> {
    /// `--for`.
    for_: Option<Duration>,
    /// `--zone`: that zone's line; None: the amplifier's.
    zone: Option<&'z crate::config::Zone>,
    /// `[relay] max-on`.
    max_on: Duration,
}

/// The hold itself, on a guard already made.
fn hold(
    guard: &RelayGuard,
    held: &Held<'_>,
    shutdown: &Shutdown,
    lang: Lang,
    out: &mut dyn Write,
) -> Result<(), relay::RelayError> {
    let (for_, max_on) = (held.for_, held.max_on);
    let what = match held.zone {
        None => guard.describe(),
        Some(z) => {
            let (title, name) = (&z.title, &z.name);
            tr!(
                lang,
                "của vùng {title} ({name})",
                "of zone {name} ({title})"
            )
        }
    };
    let max_text = duration::human(max_on, lang);
    match held.zone {
        None => guard.on()?,
        Some(z) => guard.switch_zone(&z.name, true)?,
    }
    let limit = for_.map_or(max_on, |d| d.min(max_on));
    let text = match for_ {
        Some(d) if d <= max_on => {
            let d = duration::human(d, lang);
            tr!(
                lang,
                "Ampli: BẬT. Chân {what} được giữ ở mức bật trong {d}; bấm Ctrl-C để tắt sớm hơn.",
                "Relay: ON. Holding {what} on for {d}; press Ctrl-C to switch it off sooner."
            )
        }
        Some(d) => {
            let d = duration::human(d, lang);
            tr!(
                lang,
                "Ampli: BẬT. Chân {what} được giữ ở mức bật trong {max_text} (giới hạn [relay] max-on, ngắn hơn --for {d}); bấm Ctrl-C để tắt sớm hơn.",
                "Relay: ON. Holding {what} on for {max_text} (the [relay] max-on limit, shorter than --for {d}); press Ctrl-C to switch it off sooner."
            )
        }
        None => tr!(
            lang,
            "Ampli: BẬT. Chân {what} được giữ ở mức bật cho đến khi bấm Ctrl-C (hoặc nhận tín hiệu SIGTERM), lâu nhất {max_text} ([relay] max-on).",
            "Relay: ON. Holding {what} on until you press Ctrl-C (or SIGTERM arrives), at most {max_text} ([relay] max-on)."
        ),
    };
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
    let stopped = shutdown.wait_timeout(limit);
    guard.off_with(relay::EdgeCause::Shutdown)?;
    let why = if stopped {
        lang.pick("đã nhận tín hiệu dừng", "stopped by signal")
    } else {
        lang.pick("hết thời gian", "time is up")
    };
    let _ = writeln!(
        out,
        "{}",
        tr!(
            lang,
            "Ampli: TẮT ({why}). Chân {what} đã được tắt.",
            "Relay: OFF ({why}). {what} is off."
        )
    );
    Ok(())
}

/// `status`: what the relay is doing, read without changing it: the
/// amplifier's line and every zone's (or only `zone`'s).
fn status(
    cfg: &Config,
    zone: Option<&crate::config::Zone>,
    clock: Arc<dyn Clock>,
    out: &mut dyn Write,
) -> Result<(), String> {
    let lang = cfg.lang;
    if cfg.relay.backend == RelayBackend::Sim {
        return sim_status(cfg, zone, clock, out);
    }
    let mut first = Ok(());
    let lines = |rc: &crate::config::RelayConfig| match cfg.relay.backend {
        RelayBackend::Rppal => rppal_lines(rc, lang),
        _ => gpio_lines(rc, lang),
    };
    if zone.is_none() {
        match lines(&cfg.relay) {
            Ok(ls) => ls.iter().for_each(|l| {
                let _ = writeln!(out, "{l}");
            }),
            Err(e) => first = Err(e),
        }
    }
    for z in cfg
        .zones
        .iter()
        .filter(|z| zone.is_none_or(|x| x.name == z.name))
    {
        let (title, name) = (&z.title, &z.name);
        let _ = writeln!(
            out,
            "{}",
            tr!(lang, "Vùng {title} ({name}):", "Zone {name} ({title}):")
        );
        match lines(&z.relay_config(&cfg.relay)) {
            Ok(ls) => ls.iter().for_each(|l| {
                let _ = writeln!(out, "  {l}");
            }),
            Err(e) => {
                let _ = writeln!(out, "  {e}");
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
    }
    first
}

/// What `gpioinfo` knows of one relay's line, for `loa relay status`.
fn gpio_lines(rc: &crate::config::RelayConfig, lang: Lang) -> Result<Vec<String>, String> {
    let active_low = if rc.active_low {
        lang.pick("có", "yes")
    } else {
        lang.pick("không", "no")
    };
    let s = relay::gpio::status(rc).map_err(|e| e.message(lang))?;
    let what = s.located.describe();
    let mut lines = vec![tr!(lang, "Chân rơ-le: {what}", "Relay line: {what}")];
    if let Some(from) = &s.located.moved_from {
        let chip = &s.located.chip_name;
        lines.push(tr!(
            lang,
            "  (chân này không nằm trên {from} như trong cấu hình mà nằm trên {chip}; nên sửa thành [relay] chip = \"{chip}\")",
            "  (not on {from} as configured but on {chip}; consider setting [relay] chip = \"{chip}\")"
        ));
    }
    let direction = if s.output {
        lang.pick("đầu ra", "output")
    } else {
        lang.pick("đầu vào", "input")
    };
    let line_low = if s.active_low {
        lang.pick("có", "yes")
    } else {
        lang.pick("không", "no")
    };
    let consumer = &s.consumer;
    lines.push(if !s.used {
        tr!(
            lang,
            "Trạng thái: rảnh, không chương trình nào giữ chân này ({direction}). Nếu đã lắp điện trở kéo xuống (xem README) thì rơ-le đang tắt, tức ampli TẮT.",
            "State: free, no program holds the line ({direction}). With the pull-down fitted (see the README), the relay is off."
        )
    } else if consumer == relay::CONSUMER {
        tr!(
            lang,
            "Trạng thái: loa đang giữ chân này ({direction}, active-low: {line_low}) vì dịch vụ loa hoặc một lệnh `loa relay on` đang chạy; không đọc được mức của chân từ bên ngoài.",
            "State: held by loa ({direction}, active-low: {line_low}), the loa service or a `loa relay on` is running; its level cannot be read from outside."
        )
    } else if consumer.is_empty() {
        tr!(
            lang,
            "Trạng thái: một chương trình khác (không rõ tên) đang giữ chân này ({direction}); loa không dùng được chân khi chương trình đó còn giữ.",
            "State: held by another program (no name given; {direction}); loa cannot use the line while it does."
        )
    } else {
        tr!(
            lang,
            "Trạng thái: chương trình \"{consumer}\" đang giữ chân này ({direction}); loa không dùng được chân khi chương trình đó còn giữ.",
            "State: held by \"{consumer}\" ({direction}); loa cannot use the line while it does."
        )
    });
    lines.push(tr!(
        lang,
        "Cấu hình: active-low = {active_low}",
        "Config: active-low = {active_low}"
    ));
    Ok(lines)
}

#[cfg(feature = "rppal")]
fn rppal_lines(rc: &crate::config::RelayConfig, lang: Lang) -> Result<Vec<String>, String> {
    let s = relay::rppal::status(rc).map_err(|e| e.message(lang))?;
    let (bcm, mode) = (s.bcm, &s.mode);
    let level = if s.high {
        lang.pick("cao", "high")
    } else {
        lang.pick("thấp", "low")
    };
    let word = on_word(s.on, lang);
    let text = if s.output {
        tr!(
            lang,
            "GPIO{bcm} (rppal): đầu ra, mức {level} → ampli {word} (theo active-low trong cấu hình).",
            "GPIO{bcm} (rppal): output, level {level} → amplifier {word} (given active-low in the config)."
        )
    } else {
        tr!(
            lang,
            "GPIO{bcm} (rppal): chế độ {mode}, không chương trình nào điều khiển; mức {level} (do điện trở kéo) → ampli {word}.",
            "GPIO{bcm} (rppal): mode {mode}, nobody drives it; level {level} (set by the pull resistor) → amplifier {word}."
        )
    };
    Ok(vec![text])
}

#[cfg(not(feature = "rppal"))]
fn rppal_lines(_rc: &crate::config::RelayConfig, lang: Lang) -> Result<Vec<String>, String> {
    Err(relay::RelayError::RppalNotBuilt.message(lang))
}

/// A relay edge's local date and time: "20/01/2026 05:59:57" in
/// Vietnamese, "2026-01-20 05:59:57" in English.
fn local_stamp(at: jiff::Timestamp, tz: &jiff::tz::TimeZone, lang: Lang) -> String {
    let zoned = at.to_zoned_datetime(tz.clone());
    format!(
        "{} {}",
        crate::lang::date(zoned.date(), lang),
        zoned.strftime("%H:%M:%S")
    )
}

/// The simulated relays' levels from the sim-file: the amplifier's, then
/// every zone's (or only `zone`'s).
fn sim_status(
    cfg: &Config,
    zone: Option<&crate::config::Zone>,
    clock: Arc<dyn Clock>,
    out: &mut dyn Write,
) -> Result<(), String> {
    let lang = cfg.lang;
    let Some(path) = &cfg.relay.sim_file else {
        let _ = writeln!(
            out,
            "{}",
            tr!(
                lang,
                "Ampli (giả lập) không lưu trạng thái khi không có [relay] sim-file; hãy đặt sim-file để ghi lại mỗi lần bật/tắt.",
                "The simulated relay keeps no state without [relay] sim-file; set sim-file to record every switching."
            )
        );
        return Ok(());
    };
    let lines: Vec<Option<&crate::config::Zone>> = match zone {
        Some(z) => vec![Some(z)],
        None => std::iter::once(None)
            .chain(cfg.zones.iter().map(Some))
            .collect(),
    };
    for z in lines {
        let text = sim_line_status(cfg, path, z, clock.clone())?;
        let _ = writeln!(out, "{text}");
    }
    Ok(())
}

/// One simulated line's level, as `loa relay status` says it.
fn sim_line_status(
    cfg: &Config,
    path: &Path,
    zone: Option<&crate::config::Zone>,
    clock: Arc<dyn Clock>,
) -> Result<String, String> {
    let lang = cfg.lang;
    let who = sim_who(zone, lang);
    let shown = display_path(path);
    let text = match sim::last_edge(path, zone.map(|z| z.name.as_str())) {
        Ok(None) => tr!(
            lang,
            "{who}: {shown} chưa ghi lần bật/tắt nào; coi như đang TẮT.",
            "{who}: no switching recorded in {shown} yet; it counts as OFF."
        ),
        Ok(Some(e)) => {
            let word = on_word(e.on, lang);
            let local = local_stamp(e.at, &cfg.tz, lang);
            // A clock set back makes "ago" negative: show no length then.
            let ago = Duration::try_from(clock.now().duration_since(e.at))
                .map(|d| duration::human(d, lang))
                .unwrap_or_else(|_| "?".into());
            tr!(
                lang,
                "{who}: {word} từ {local} ({ago} trước), theo {shown}.",
                "{who}: {word} since {local} ({ago} ago), according to {shown}."
            )
        }
        Err(e) => {
            return Err(tr!(
                lang,
                "Không đọc được tệp {shown} của ampli giả lập: {e}; hãy xóa dòng bị hỏng, hoặc xóa cả tệp.",
                "cannot read the simulated relay's file {shown}: {e}; remove the broken line or the whole file"
            ));
        }
    };
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeRelay, TestClock};

    fn sim_config(dir: &Path, lang: Lang) -> Config {
        let mut cfg = Config::defaults(dir);
        cfg.lang = lang;
        cfg.relay.backend = RelayBackend::Sim;
        cfg.relay.sim_file = Some(dir.join("state/relay.log"));
        cfg
    }

    fn run_sim(cfg: &Config, action: RelayAction, clock: &Arc<TestClock>) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_with(cfg, action, clock.clone(), &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn sim_on_off_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = sim_config(dir.path(), Lang::En);
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));

        let (code, out, _) = run_sim(&cfg, RelayAction::Status { zone: None }, &clock);
        assert_eq!(code, 0);
        assert!(out.contains("no switching recorded"), "{out}");

        let (code, out, err) = run_sim(
            &cfg,
            RelayAction::On {
                for_: None,
                zone: None,
            },
            &clock,
        );
        assert_eq!((code, err.as_str()), (0, ""));
        assert!(out.contains("ON") && out.contains("relay.log"), "{out}");

        clock.advance(Duration::from_secs(75));
        let (code, out, _) = run_sim(&cfg, RelayAction::Status { zone: None }, &clock);
        assert_eq!(code, 0);
        assert!(
            out.contains("ON since 2026-01-20 05:59:57 (1 min 15 s ago)"),
            "{out}"
        );

        let (code, out, _) = run_sim(&cfg, RelayAction::Off { zone: None }, &clock);
        assert_eq!(code, 0);
        assert!(out.contains("OFF"), "{out}");
        let (code, out, _) = run_sim(&cfg, RelayAction::Off { zone: None }, &clock);
        assert_eq!(code, 0);
        assert!(out.contains("already OFF"), "{out}");

        let text = std::fs::read_to_string(dir.path().join("state/relay.log")).unwrap();
        assert_eq!(
            text,
            "2026-01-20T05:59:57.003+07:00 on\n2026-01-20T06:01:12.003+07:00 off\n"
        );
    }

    #[test]
    fn sim_messages_are_vietnamese_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = sim_config(dir.path(), Lang::Vi);
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let (code, out, _) = run_sim(
            &cfg,
            RelayAction::On {
                for_: None,
                zone: None,
            },
            &clock,
        );
        assert_eq!(code, 0);
        assert!(out.contains("BẬT"), "{out}");
    }

    #[test]
    fn sim_without_a_file_says_it_keeps_no_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = sim_config(dir.path(), Lang::En);
        cfg.relay.sim_file = None;
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let (code, out, _) = run_sim(&cfg, RelayAction::Status { zone: None }, &clock);
        assert_eq!(code, 0);
        assert!(
            out.contains("keeps no state without [relay] sim-file"),
            "{out}"
        );
        let (code, out, _) = run_sim(
            &cfg,
            RelayAction::On {
                for_: None,
                zone: None,
            },
            &clock,
        );
        assert_eq!(code, 0);
        assert!(out.contains("no [relay] sim-file"), "{out}");
    }

    #[test]
    fn a_bad_for_is_a_command_line_error() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = sim_config(dir.path(), Lang::En);
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let (code, _, err) = run_sim(
            &cfg,
            RelayAction::On {
                for_: Some("ten seconds".into()),
                zone: None,
            },
            &clock,
        );
        assert_eq!(code, exit::CONFIG);
        assert!(
            err.contains("--for") && err.contains("ten seconds"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_chip_is_a_relay_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = sim_config(dir.path(), Lang::En);
        cfg.relay.backend = RelayBackend::Gpio;
        cfg.relay.chip = "gpiochip-loa-missing".into();
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        for action in [
            RelayAction::Off { zone: None },
            RelayAction::Status { zone: None },
        ] {
            let (code, _, err) = run_sim(&cfg, action, &clock);
            assert_eq!(code, exit::PROBLEMS);
            assert!(err.contains("\"gpiochip-loa-missing\""), "{err}");
        }
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = hold_on(
            &cfg,
            None,
            None,
            clock,
            &Shutdown::new(),
            &mut out,
            &mut err,
        );
        assert_eq!(code, exit::PROBLEMS);
        assert!(
            String::from_utf8(err)
                .unwrap()
                .contains("gpiochip-loa-missing")
        );
    }

    #[test]
    fn hold_stops_on_a_signal_and_switches_off() {
        let fake = FakeRelay::new();
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let guard = RelayGuard::new(fake.boxed(), Duration::from_secs(3600), clock).unwrap();
        let shutdown = Shutdown::new();
        let trigger = shutdown.clone();
        let watcher = fake.clone();
        let t = std::thread::spawn(move || {
            assert!(watcher.wait_for(true, Duration::from_secs(10)));
            trigger.trigger(2);
        });
        let mut out = Vec::new();
        let held = Held {
            for_: None,
            zone: None,
            max_on: Duration::from_secs(3600),
        };
        hold(&guard, &held, &shutdown, Lang::En, &mut out).unwrap();
        t.join().unwrap();
        assert!(!fake.is_on());
        assert_eq!(fake.calls(), [false, true, false]);
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("until you press Ctrl-C"), "{out}");
        assert!(out.contains("at most 1 h ([relay] max-on)"), "{out}");
        assert!(out.contains("OFF (stopped by signal)"), "{out}");
    }

    #[test]
    fn hold_never_outlasts_max_on() {
        let fake = FakeRelay::new();
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let max_on = Duration::from_millis(50);
        let guard = RelayGuard::new(fake.boxed(), max_on, clock).unwrap();
        let mut out = Vec::new();
        let shutdown = Shutdown::new();
        let held = Held {
            for_: Some(Duration::from_secs(3600)),
            zone: None,
            max_on,
        };
        hold(&guard, &held, &shutdown, Lang::Vi, &mut out).unwrap();
        assert!(!fake.is_on());
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("max-on") && out.contains("hết thời gian"),
            "{out}"
        );
    }
}
