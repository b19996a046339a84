//! The `gpio` backend: the Linux GPIO character device (uAPI v2) through
//! gpiocdev, on any board (the Pi 5 included). It finds the chip (by name or
//! path) and the line (by offset, or by name on that chip, else on any chip),
//! requests it as an output that starts inactive, and drives it. Active-low
//! is set in the line's config, so the kernel inverts it: `set(true)` is
//! always "amplifier on". It must not hold the line longer than the relay
//! lives: dropping it drives the line off and releases it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gpiocdev::line::{Direction, Info, Value};
use gpiocdev::{Chip, Request};
use tracing::warn;

use super::{CONSUMER, EmergencyOff, Relay, RelayError};
use crate::config::{LineSpec, RelayConfig};

/// Where the configured line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The chip's device file.
    pub chip_path: PathBuf,
    /// Its name ("gpiochip0").
    pub chip_name: String,
    /// The line's offset on the chip.
    pub offset: u32,
    /// The line's name ("GPIO17"; may be empty).
    pub name: String,
    /// The chip named in the config, when the line (asked for by name) was
    /// found on another one: the operator should correct `[relay] chip`.
    pub moved_from: Option<String>,
}

impl Located {
    /// "gpiochip0 line 17 (GPIO17)".
    pub fn describe(&self) -> String {
        // In the operator's language: messages quote it.
        let line = crate::lang::operator().pick("chân", "line");
        if self.name.is_empty() {
            format!("{} {line} {}", self.chip_name, self.offset)
        } else {
            format!("{} {line} {} ({})", self.chip_name, self.offset, self.name)
        }
    }
}

/// The relay on a GPIO line.
pub struct GpioRelay {
    /// Shared with the emergency off: setting a value needs no `&mut`.
    request: Arc<Request>,
    located: Located,
}

impl GpioRelay {
    /// Finds and requests the line, as an output starting off.
    pub fn open(cfg: &RelayConfig) -> Result<GpioRelay, RelayError> {
        let (chip, located) = locate(cfg)?;
        if let Some(from) = &located.moved_from {
            warn!(line = %located.describe(), configured_chip = %from, "{}", crate::lang::log("đường GPIO của rơ-le không nằm trên chip đã cấu hình; loa dùng chip chứa nó", "the relay line is not on the configured chip; using the chip it is on"));
        }
        let mut builder = Request::builder();
        builder
            .on_chip(located.chip_path.clone())
            .with_consumer(CONSUMER)
            .with_line(located.offset)
            .as_output(Value::Inactive);
        if cfg.active_low {
            builder.as_active_low();
        }
        let request = builder
            .request()
            .map_err(|e| request_error(&chip, &located, e))?;
        Ok(GpioRelay {
            request: Arc::new(request),
            located,
        })
    }

    /// Where the line it drives is.
    pub fn located(&self) -> &Located {
        &self.located
    }
}

impl Relay for GpioRelay {
    fn set(&mut self, on: bool) -> Result<(), RelayError> {
        let v = if on { Value::Active } else { Value::Inactive };
        self.request
            .set_lone_value(v)
            .map_err(|e| RelayError::Backend {
                relay: self.located.describe(),
                detail: e.to_string(),
            })
    }

    fn describe(&self) -> String {
        self.located.describe()
    }

    fn emergency_off(&self) -> Option<EmergencyOff> {
        let request = self.request.clone();
        Some(Box::new(move || {
            let _ = request.set_lone_value(Value::Inactive);
        }))
    }
}

impl Drop for GpioRelay {
    /// Off before release: without `dtparam=strict_gpiod` the kernel keeps
    /// a released line at its last value.
    fn drop(&mut self) {
        let _ = self.request.set_lone_value(Value::Inactive);
    }
}

/// What `loa relay status` shows: where the line is and what the kernel
/// says about it, read without requesting it.
#[derive(Clone, Debug)]
pub struct LineStatus {
    /// Where the line is.
    pub located: Located,
    /// Requested by some consumer (loa, another program, a kernel driver).
    pub used: bool,
    /// Who requested it, as the kernel says ("" when nobody did).
    pub consumer: String,
    /// True when it is configured as an output.
    pub output: bool,
    /// True when it is configured active-low.
    pub active_low: bool,
}

/// Reads the line's state without changing it.
pub fn status(cfg: &RelayConfig) -> Result<LineStatus, RelayError> {
    let (chip, located) = locate(cfg)?;
    let info = chip
        .line_info(located.offset)
        .map_err(|e| RelayError::Backend {
            relay: located.describe(),
            detail: e.to_string(),
        })?;
    Ok(LineStatus {
        used: info.used,
        consumer: info.consumer,
        output: info.direction == Direction::Output,
        active_low: info.active_low,
        located,
    })
}

/// Opens the chip and finds the line.
pub fn locate(cfg: &RelayConfig) -> Result<(Chip, Located), RelayError> {
    let chip = open_chip(&cfg.chip)?;
    let chip_name = chip.name();
    match &cfg.line {
        LineSpec::Offset(offset) => {
            let lines = chip
                .info()
                .map_err(|e| RelayError::Backend {
                    relay: chip_name.clone(),
                    detail: e.to_string(),
                })?
                .num_lines;
            if *offset >= lines {
                return Err(RelayError::LineOutOfRange {
                    chip: chip_name,
                    offset: *offset,
                    lines,
                });
            }
            let name = chip.line_info(*offset).map(|i| i.name).unwrap_or_default();
            let located = Located {
                chip_path: chip.path().to_path_buf(),
                chip_name,
                offset: *offset,
                name,
                moved_from: None,
            };
            Ok((chip, located))
        }
        LineSpec::Name(name) => {
            if let Some(info) = chip.find_line_info(name) {
                let located = Located {
                    chip_path: chip.path().to_path_buf(),
                    chip_name,
                    offset: info.offset,
                    name: info.name,
                    moved_from: None,
                };
                return Ok((chip, located));
            }
            // Pi 5 kernels have moved the header's lines between chips:
            // look on every chip, and say where it was found.
            let found =
                gpiocdev::find_named_line(name).ok_or_else(|| RelayError::LineNotFound {
                    chip: chip_name.clone(),
                    name: name.clone(),
                })?;
            let other = Chip::from_path(&found.chip)
                .map_err(|e| chip_error(&found.chip.display().to_string(), &found.chip, e))?;
            let located = Located {
                chip_path: other.path().to_path_buf(),
                chip_name: other.name(),
                offset: found.info.offset,
                name: found.info.name,
                moved_from: Some(chip_name),
            };
            Ok((other, located))
        }
    }
}

/// "gpiochip0" is looked for in /dev; anything with a slash is a path.
fn chip_path(chip: &str) -> PathBuf {
    if chip.contains('/') {
        PathBuf::from(chip)
    } else {
        Path::new("/dev").join(chip)
    }
}

fn open_chip(chip: &str) -> Result<Chip, RelayError> {
    let path = chip_path(chip);
    Chip::from_path(&path).map_err(|e| chip_error(chip, &path, e))
}

fn chip_error(chip: &str, path: &Path, e: gpiocdev::Error) -> RelayError {
    match &e {
        gpiocdev::Error::Os(errno) if errno.0 == libc::ENOENT || errno.0 == libc::ENOTDIR => {
            RelayError::ChipMissing {
                chip: chip.to_string(),
                available: gpiocdev::chip::chips()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect(),
            }
        }
        gpiocdev::Error::Os(errno) if errno.0 == libc::EACCES || errno.0 == libc::EPERM => {
            RelayError::PermissionDenied {
                path: path.display().to_string(),
            }
        }
        gpiocdev::Error::GpioChip(..) => RelayError::NotAChip {
            chip: chip.to_string(),
        },
        _ => RelayError::Backend {
            relay: chip.to_string(),
            detail: e.to_string(),
        },
    }
}

/// Why a request failed: a busy line is told by its line info (who holds
/// it), which is clearer than the bare EBUSY.
fn request_error(chip: &Chip, located: &Located, e: gpiocdev::Error) -> RelayError {
    if let Ok(Info {
        used: true,
        consumer,
        ..
    }) = chip.line_info(located.offset)
    {
        return RelayError::LineBusy {
            line: located.describe(),
            consumer,
        };
    }
    match &e {
        gpiocdev::Error::Os(errno) if errno.0 == libc::EACCES || errno.0 == libc::EPERM => {
            RelayError::PermissionDenied {
                path: located.chip_path.display().to_string(),
            }
        }
        _ => RelayError::Backend {
            relay: located.describe(),
            detail: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    //! Against a real kernel chip: gpio-sim through configfs. Each test skips,
    //! saying why, where the simulator is not available (no module, not root).

    use super::*;
    use crate::config::Config;
    use crate::lang::Lang;
    use gpiosim::{Bank, Level};

    const CONFIGFS: &str = "/sys/kernel/config/gpio-sim";

    fn simulator(banks: &[Bank]) -> Option<gpiosim::Sim> {
        if !Path::new(CONFIGFS).exists() {
            crate::testing::skipped(&format!(
                "{CONFIGFS} is missing (no gpio-sim kernel module, or configfs not mounted)"
            ));
            return None;
        }
        let mut b = gpiosim::builder();
        for bank in banks {
            b.with_bank(bank);
        }
        match b.live() {
            Ok(sim) => Some(sim),
            Err(e) => {
                crate::testing::skipped(&format!(
                    "cannot create a gpio-sim chip ({e}); these tests need root"
                ));
                None
            }
        }
    }

    fn relay_cfg(chip: &str, line: LineSpec, active_low: bool) -> RelayConfig {
        let mut c = Config::defaults(Path::new(".")).relay;
        c.backend = crate::config::RelayBackend::Gpio;
        c.chip = chip.to_string();
        c.line = line;
        c.active_low = active_low;
        c
    }

    #[test]
    fn drives_the_line_on_and_off() {
        let Some(sim) = simulator(&[Bank::new(8, "loa-test")]) else {
            return;
        };
        let chip = &sim.chips()[0];
        let cfg = relay_cfg(&chip.chip_name, LineSpec::Offset(3), false);
        let mut r = GpioRelay::open(&cfg).unwrap();
        assert_eq!(chip.get_level(3).unwrap(), Level::Low, "requested off");
        assert_eq!(r.describe(), format!("{} line 3", chip.chip_name));
        r.set(true).unwrap();
        assert_eq!(chip.get_level(3).unwrap(), Level::High);
        let s = status(&cfg).unwrap();
        assert!(s.used && s.output && !s.active_low);
        assert_eq!(s.consumer, "loa");
        r.set(false).unwrap();
        assert_eq!(chip.get_level(3).unwrap(), Level::Low);
        r.set(true).unwrap();
        drop(r);
        assert!(!status(&cfg).unwrap().used, "released on drop");
    }

    #[test]
    fn the_chip_may_be_a_path() {
        let Some(sim) = simulator(&[Bank::new(4, "loa-test")]) else {
            return;
        };
        let chip = &sim.chips()[0];
        let path = chip.dev_path().display().to_string();
        let mut r = GpioRelay::open(&relay_cfg(&path, LineSpec::Offset(1), false)).unwrap();
        r.set(true).unwrap();
        assert_eq!(chip.get_level(1).unwrap(), Level::High);
    }

    #[test]
    fn active_low_inverts_the_level() {
        let Some(sim) = simulator(&[Bank::new(8, "loa-test")]) else {
            return;
        };
        let chip = &sim.chips()[0];
        let cfg = relay_cfg(&chip.chip_name, LineSpec::Offset(5), true);
        let mut r = GpioRelay::open(&cfg).unwrap();
        assert_eq!(chip.get_level(5).unwrap(), Level::High, "off is high");
        r.set(true).unwrap();
        assert_eq!(chip.get_level(5).unwrap(), Level::Low, "on is low");
        r.set(false).unwrap();
        assert_eq!(chip.get_level(5).unwrap(), Level::High);
        assert!(status(&cfg).unwrap().active_low);
    }

    #[test]
    fn finds_the_line_by_name() {
        let Some(sim) = simulator(&[Bank::new(8, "loa-test").name(6, "LOA_RELAY_T1").clone()])
        else {
            return;
        };
        let chip = &sim.chips()[0];
        let mut r = GpioRelay::open(&relay_cfg(
            &chip.chip_name,
            LineSpec::Name("LOA_RELAY_T1".into()),
            false,
        ))
        .unwrap();
        assert_eq!(
            r.describe(),
            format!("{} line 6 (LOA_RELAY_T1)", chip.chip_name)
        );
        assert!(r.located().moved_from.is_none());
        r.set(true).unwrap();
        assert_eq!(chip.get_level(6).unwrap(), Level::High);
    }

    #[test]
    fn finds_a_named_line_on_another_chip_and_says_so() {
        let Some(sim) = simulator(&[
            Bank::new(4, "loa-test-a"),
            Bank::new(8, "loa-test-b").name(2, "LOA_RELAY_T2").clone(),
        ]) else {
            return;
        };
        let (a, b) = (&sim.chips()[0], &sim.chips()[1]);
        let mut r = GpioRelay::open(&relay_cfg(
            &a.chip_name,
            LineSpec::Name("LOA_RELAY_T2".into()),
            false,
        ))
        .unwrap();
        assert_eq!(
            r.located().moved_from.as_deref(),
            Some(a.chip_name.as_str())
        );
        assert_eq!(
            r.describe(),
            format!("{} line 2 (LOA_RELAY_T2)", b.chip_name)
        );
        r.set(true).unwrap();
        assert_eq!(b.get_level(2).unwrap(), Level::High);
    }

    #[test]
    fn a_missing_name_or_offset_is_a_clear_error() {
        let Some(sim) = simulator(&[Bank::new(4, "loa-test")]) else {
            return;
        };
        let chip = &sim.chips()[0];
        let err = GpioRelay::open(&relay_cfg(
            &chip.chip_name,
            LineSpec::Name("LOA_NO_SUCH_LINE".into()),
            false,
        ))
        .err()
        .unwrap();
        assert!(matches!(err, RelayError::LineNotFound { .. }), "{err:?}");
        assert!(err.message(Lang::En).contains("LOA_NO_SUCH_LINE"));
        let err = GpioRelay::open(&relay_cfg(&chip.chip_name, LineSpec::Offset(4), false))
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                RelayError::LineOutOfRange {
                    offset: 4,
                    lines: 4,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_busy_line_names_its_holder() {
        let Some(sim) = simulator(&[Bank::new(8, "loa-test")
            .name(2, "LOA_RELAY_T3")
            .hog(2, "other-app", gpiosim::Direction::OutputLow)
            .clone()])
        else {
            return;
        };
        let chip = &sim.chips()[0];
        let err = GpioRelay::open(&relay_cfg(&chip.chip_name, LineSpec::Offset(2), false))
            .err()
            .expect("a hogged line cannot be requested");
        match &err {
            RelayError::LineBusy { line, consumer } => {
                assert_eq!(line, &format!("{} line 2 (LOA_RELAY_T3)", chip.chip_name));
                assert_eq!(consumer, "other-app");
            }
            other => panic!("expected LineBusy, got {other:?}"),
        }
        for lang in [Lang::Vi, Lang::En] {
            let m = err.message(lang);
            assert!(m.contains("other-app") && m.contains("line 2"), "{m}");
        }
    }

    #[test]
    fn a_second_loa_finds_the_line_held_by_loa() {
        let Some(sim) = simulator(&[Bank::new(4, "loa-test")]) else {
            return;
        };
        let chip = &sim.chips()[0];
        let cfg = relay_cfg(&chip.chip_name, LineSpec::Offset(0), false);
        let _first = GpioRelay::open(&cfg).unwrap();
        let err = GpioRelay::open(&cfg).err().unwrap();
        assert!(
            matches!(&err, RelayError::LineBusy { consumer, .. } if consumer == "loa"),
            "{err:?}"
        );
        assert!(err.message(Lang::En).contains("systemctl stop loa"));
    }

    #[test]
    fn a_guard_on_a_real_line_switches_it_off_when_dropped() {
        let Some(sim) = simulator(&[Bank::new(4, "loa-test")]) else {
            return;
        };
        let chip = &sim.chips()[0];
        let cfg = relay_cfg(&chip.chip_name, LineSpec::Offset(1), false);
        let clock = Arc::new(crate::schedule::clock::SystemClock);
        let g = crate::relay::RelayGuard::new(
            Box::new(GpioRelay::open(&cfg).unwrap()),
            std::time::Duration::from_secs(60),
            clock,
        )
        .unwrap();
        g.on().unwrap();
        assert_eq!(chip.get_level(1).unwrap(), Level::High);
        drop(g);
        assert_eq!(chip.get_level(1).unwrap(), Level::Low);
        // Released: a new request succeeds at once.
        drop(GpioRelay::open(&cfg).unwrap());
    }

    // Issue 16: zones on lines of the same chip, through `open_guard`: the
    // zone goes on before the amplifier and off after it; an active-low
    // zone is driven low for on.
    #[test]
    fn zone_lines_on_a_real_chip_follow_the_amplifier() {
        let Some(sim) = simulator(&[Bank::new(8, "loa-test")]) else {
            return;
        };
        let chip = &sim.chips()[0];
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::defaults(dir.path());
        cfg.relay = relay_cfg(&chip.chip_name, LineSpec::Offset(1), false);
        let zone = |name: &str, line: u32, active_low: Option<bool>| crate::config::Zone {
            name: name.into(),
            title: name.into(),
            line: LineSpec::Offset(line),
            active_low,
        };
        cfg.zones = vec![zone("thon-1", 2, None), zone("thon-2", 3, Some(true))];
        let clock = Arc::new(crate::schedule::clock::SystemClock);
        let g = crate::relay::open_guard(&cfg, clock).unwrap();
        let level = |l: u32| chip.get_level(l).unwrap();
        assert_eq!(
            (level(1), level(2), level(3)),
            (Level::Low, Level::Low, Level::High)
        );
        g.select_zones(&["thon-2".to_string()]).unwrap();
        assert_eq!(
            (level(2), level(3)),
            (Level::Low, Level::Low),
            "thon-2 on is low"
        );
        g.on().unwrap();
        assert_eq!(level(1), Level::High);
        g.off().unwrap();
        assert_eq!(
            (level(1), level(2), level(3)),
            (Level::Low, Level::Low, Level::High)
        );
        drop(g);
    }

    #[test]
    fn a_missing_chip_lists_the_chips_there_are() {
        let err = GpioRelay::open(&relay_cfg("gpiochip-loa-none", LineSpec::Offset(1), false))
            .err()
            .unwrap();
        assert!(
            matches!(&err, RelayError::ChipMissing { chip, .. } if chip == "gpiochip-loa-none")
        );
        let err = GpioRelay::open(&relay_cfg(
            "/nonexistent/gpiochip9",
            LineSpec::Offset(1),
            false,
        ))
        .err()
        .unwrap();
        assert!(
            err.message(Lang::Vi).contains("/nonexistent/gpiochip9"),
            "{err:?}"
        );
        // A file that is not a chip.
        let file = tempfile::NamedTempFile::new().unwrap();
        let name = file.path().display().to_string();
        let err = GpioRelay::open(&relay_cfg(&name, LineSpec::Offset(1), false))
            .err()
            .unwrap();
        assert!(matches!(err, RelayError::NotAChip { .. }), "{err:?}");
        assert!(err.message(Lang::En).contains(&name));
    }
}
