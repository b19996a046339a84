//! The amplifier relay: the one [`Relay`] seam, its backends (`gpio` through
//! the Linux GPIO character device, `rppal` behind a Cargo feature, `sim`
//! without hardware) and the [`RelayGuard`] that keeps it safe (off at
//! start-up, a max-on watchdog, off on drop and on a panic). It switches what
//! it is told to; it must not decide when to air anything, nor play sound.
//!
//! A backend only drives its line: `set(true)` always means "amplifier on",
//! whatever the wiring's polarity (`active-low` is handled inside). Everything
//! that must hold across backends (start-up off, max-on, the panic hook) lives
//! in the guard, once.

pub mod gpio;
mod guard;
pub mod lock;
#[cfg(feature = "rppal")]
pub mod rppal;
pub mod sim;

use std::path::PathBuf;
use std::sync::Arc;

pub use guard::{Edge, EdgeCause, RelayGuard, ZoneState, install_panic_hook};

use crate::config::{Config, RelayBackend};
use crate::lang::Lang;
use crate::problem::display_path;
use crate::schedule::clock::Clock;
use crate::tr;

/// The consumer name loa gives the GPIO line, shown by `gpioinfo` and by
/// `loa relay status`.
pub const CONSUMER: &str = "loa";

/// A way to switch a relay off that takes no lock the guard may hold: the
/// panic hook's last resort when the panicking thread holds the guard's lock.
pub type EmergencyOff = Box<dyn Fn() + Send + Sync>;

/// The seam for the amplifier relay: one real implementation per backend and
/// one fake (`crate::testing::FakeRelay`).
pub trait Relay: Send {
    /// Drives the amplifier: true = on. Active-low is handled inside the backend.
    fn set(&mut self, on: bool) -> Result<(), RelayError>;

    /// For messages: "sim", "gpiochip0 line 17 (GPIO17)".
    fn describe(&self) -> String;

    /// A switch-off that works without `&mut self`, for the panic hook when
    /// the guard's lock cannot be had. `None` when the backend has none; the
    /// watchdog then finishes the job once the lock is released.
    fn emergency_off(&self) -> Option<EmergencyOff> {
        None
    }
}

/// Opens the configured backend (does not switch anything by itself), as
/// the one owner of the relay: a lock on `STATE/relay.lock` is held for as
/// long as the relay is (by `loa run`, `loa play`, `loa relay on`); a second
/// program that would switch it is refused with [`RelayError::InUse`]. The
/// lock dies with its holder, so `loa relay off` after a crash still works.
pub fn open(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Box<dyn Relay>, RelayError> {
    let lock = lock::RelayLock::take(&cfg.paths.state)?;
    let inner = open_unlocked(cfg, clock)?;
    Ok(Box::new(lock::Locked { inner, lock }))
}

/// Opens the backend without taking the lock: only for switching off (always
/// the safe direction, even while another program holds the relay).
pub fn open_unlocked(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Box<dyn Relay>, RelayError> {
    match cfg.relay.backend {
        RelayBackend::Sim => Ok(Box::new(sim::SimRelay::new(
            cfg.relay.sim_file.clone(),
            cfg.tz.clone(),
            clock,
        ))),
        RelayBackend::Gpio => Ok(Box::new(gpio::GpioRelay::open(&cfg.relay)?)),
        #[cfg(feature = "rppal")]
        RelayBackend::Rppal => Ok(Box::new(rppal::RppalRelay::open(&cfg.relay)?)),
        #[cfg(not(feature = "rppal"))]
        RelayBackend::Rppal => Err(RelayError::RppalNotBuilt),
    }
}

/// Opens one zone's relay (`[[zone]]`): the amplifier's backend and chip,
/// the zone's line and polarity. No lock of its own: the amplifier's lock
/// covers every line. Does not switch anything by itself.
pub fn open_zone(
    cfg: &Config,
    zone: &crate::config::Zone,
    clock: Arc<dyn Clock>,
) -> Result<Box<dyn Relay>, RelayError> {
    let wrap = |e: RelayError| RelayError::Zone {
        zone: zone.name.clone(),
        source: Box::new(e),
    };
    match cfg.relay.backend {
        RelayBackend::Sim => Ok(Box::new(sim::SimRelay::for_zone(
            cfg.relay.sim_file.clone(),
            cfg.tz.clone(),
            clock,
            &zone.name,
        ))),
        RelayBackend::Gpio => gpio::GpioRelay::open(&zone.relay_config(&cfg.relay))
            .map(|r| Box::new(r) as Box<dyn Relay>)
            .map_err(wrap),
        #[cfg(feature = "rppal")]
        RelayBackend::Rppal => rppal::RppalRelay::open(&zone.relay_config(&cfg.relay))
            .map(|r| Box::new(r) as Box<dyn Relay>)
            .map_err(wrap),
        #[cfg(not(feature = "rppal"))]
        RelayBackend::Rppal => Err(RelayError::RppalNotBuilt),
    }
}

/// A zone's name and its relay.
pub type ZoneRelay = (String, Box<dyn Relay>);

/// Every zone's relay, in the config's order.
pub fn open_zones(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Vec<ZoneRelay>, RelayError> {
    cfg.zones
        .iter()
        .map(|z| Ok((z.name.clone(), open_zone(cfg, z, clock.clone())?)))
        .collect()
}

/// The amplifier's relay and every zone's, under the one lock, made safe
/// by a [`RelayGuard`] (every line off at once).
pub fn open_guard(cfg: &Config, clock: Arc<dyn Clock>) -> Result<RelayGuard, RelayError> {
    let amp = open(cfg, clock.clone())?;
    let zones = open_zones(cfg, clock.clone())?;
    RelayGuard::with_zones(amp, zones, cfg.relay.max_on, clock)
}

/// Why the relay cannot be opened or switched. The `Display` text is for
/// logs; [`RelayError::message`] is what the operator reads.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The configured GPIO chip does not exist.
    #[error("GPIO chip {chip} does not exist (chips here: {})", available.join(", "))]
    ChipMissing {
        /// The chip as configured (a name or a path).
        chip: String,
        /// The chips that do exist, so the operator can pick one.
        available: Vec<String>,
    },
    /// The path names a file that is not a GPIO chip.
    #[error("{chip} is not a GPIO chip")]
    NotAChip {
        /// The chip as configured (a name or a path).
        chip: String,
    },
    /// The device file cannot be opened: usually the user is not in group gpio.
    #[error("permission denied opening {path}")]
    PermissionDenied {
        /// The device file.
        path: String,
    },
    /// A line offset past the chip's last line.
    #[error("{chip} has {lines} lines; there is no line {offset}")]
    LineOutOfRange {
        /// The chip's name.
        chip: String,
        /// The offset configured.
        offset: u32,
        /// How many lines the chip has.
        lines: u32,
    },
    /// No line of that name on the chip nor on any other chip.
    #[error("no GPIO line named {name} (looked on {chip} and every other chip)")]
    LineNotFound {
        /// The chip configured (looked at first).
        chip: String,
        /// The line name configured.
        name: String,
    },
    /// Another holder has requested the line.
    #[error("{line} is in use by {consumer:?}")]
    LineBusy {
        /// The line as described for messages, chip included.
        line: String,
        /// Who holds it ("" when the holder gave no name).
        consumer: String,
    },
    /// Backend "rppal" in a build without the `rppal` feature.
    #[error("this build of loa has no rppal support")]
    RppalNotBuilt,
    /// rppal does not recognise the board.
    #[error("rppal does not recognise this board as a Raspberry Pi")]
    NotRaspberryPi,
    /// rppal: no such BCM GPIO number on this Pi.
    #[error("GPIO {pin} does not exist on this Raspberry Pi")]
    PinNotAvailable {
        /// The BCM GPIO number configured.
        pin: u32,
    },
    /// rppal: a line name that is not a BCM number.
    #[error("rppal needs a BCM GPIO number, not {name:?}")]
    NotABcmNumber {
        /// The line name configured.
        name: String,
    },
    /// The sim backend cannot append to its file.
    #[error("cannot write {}: {source}", path.display())]
    SimFile {
        /// The `sim-file`.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// Another loa program (the service, or another `loa play`) drives
    /// the relay now.
    #[error("the relay is in use by another loa program")]
    InUse,
    /// A zone's relay cannot be opened or switched.
    #[error("zone {zone}: {source}")]
    Zone {
        /// The zone's name.
        zone: String,
        /// Why.
        #[source]
        source: Box<RelayError>,
    },
    /// Anything else a backend reports while opening or switching.
    #[error("relay {relay}: {detail}")]
    Backend {
        /// The relay (or its chip) as described for messages.
        relay: String,
        /// What the backend said.
        detail: String,
    },
}

impl RelayError {
    /// What went wrong and what to do, in the operator's language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            RelayError::ChipMissing { chip, available } if available.is_empty() => tr!(
                lang,
                "Không có chip GPIO \"{chip}\"; máy này không có chip GPIO nào. Trên máy không có GPIO, hãy đặt [relay] backend = \"sim\" để chạy thử.",
                "there is no GPIO chip \"{chip}\", and this machine has no GPIO chip at all; on a machine without GPIO set [relay] backend = \"sim\" to try loa out"
            ),
            RelayError::ChipMissing { chip, available } => {
                let list = available.join(", ");
                tr!(
                    lang,
                    "Không có chip GPIO \"{chip}\"; các chip có trên máy này: {list}. Hãy sửa [relay] chip (trên Raspberry Pi thường là \"gpiochip0\"; lệnh `gpiodetect` liệt kê các chip).",
                    "there is no GPIO chip \"{chip}\"; the chips on this machine are: {list}. Correct [relay] chip (on a Raspberry Pi it is usually \"gpiochip0\"; `gpiodetect` lists the chips)"
                )
            }
            RelayError::NotAChip { chip } => tr!(
                lang,
                "\"{chip}\" không phải là chip GPIO; hãy ghi [relay] chip bằng tên, như \"gpiochip0\", hoặc bằng đường dẫn, như \"/dev/gpiochip0\".",
                "\"{chip}\" is not a GPIO chip; set [relay] chip to a name such as \"gpiochip0\" or a path such as \"/dev/gpiochip0\""
            ),
            RelayError::PermissionDenied { path } => tr!(
                lang,
                "Không có quyền dùng {path}; hãy thêm người dùng chạy loa vào nhóm gpio (`sudo usermod -aG gpio TÊN-NGƯỜI-DÙNG`, rồi đăng nhập lại), hoặc chạy loa bằng dịch vụ systemd, vốn đã có nhóm này.",
                "no permission to use {path}; add the user running loa to the group gpio (`sudo usermod -aG gpio USERNAME`, then log in again), or run loa as the systemd service, which has that group"
            ),
            RelayError::LineOutOfRange {
                chip,
                offset,
                lines,
            } => {
                let last = lines.saturating_sub(1);
                tr!(
                    lang,
                    "Chip {chip} chỉ có các chân từ 0 đến {last}, không có chân {offset}. Hãy sửa [relay] line (lệnh `gpioinfo {chip}` liệt kê các chân).",
                    "chip {chip} has lines 0 to {last}; there is no line {offset}. Correct [relay] line (`gpioinfo {chip}` lists the lines)"
                )
            }
            RelayError::LineNotFound { chip, name } => tr!(
                lang,
                "Không có chân GPIO nào tên \"{name}\" (đã tìm trên {chip} và mọi chip khác); hãy xem tên đúng bằng lệnh `gpioinfo`, hoặc ghi số chân, ví dụ line = 17.",
                "no GPIO line is named \"{name}\" (looked on {chip} and on every other chip); look up the right name with `gpioinfo`, or give the line number, e.g. line = 17"
            ),
            RelayError::LineBusy { line, consumer } if consumer == crate::relay::CONSUMER => tr!(
                lang,
                "Chân {line} đang bị một chương trình loa khác giữ (thường là dịch vụ loa đang chạy); hãy dừng nó trước (`sudo systemctl stop loa`) rồi thử lại.",
                "{line} is held by another loa (usually the loa service, which is running); stop it first (`sudo systemctl stop loa`) and try again"
            ),
            RelayError::LineBusy { line, consumer } if consumer.is_empty() => tr!(
                lang,
                "Chân {line} đang bị một chương trình khác (không rõ tên) giữ; hãy dừng chương trình đó, hoặc chọn chân khác trong [relay] line.",
                "{line} is held by another program (it gave no name); stop that program, or choose another line in [relay] line"
            ),
            RelayError::LineBusy { line, consumer } => tr!(
                lang,
                "Chân {line} đang bị chương trình \"{consumer}\" giữ; hãy dừng chương trình đó (hoặc bỏ dòng dtoverlay dùng chân này trong /boot/firmware/config.txt), hoặc chọn chân khác trong [relay] line.",
                "{line} is held by \"{consumer}\"; stop that program (or remove the dtoverlay using this line from /boot/firmware/config.txt), or choose another line in [relay] line"
            ),
            RelayError::InUse => tr!(
                lang,
                "Ampli đang do một chương trình loa khác điều khiển (dịch vụ loa run, hoặc một lệnh loa play khác đang chạy), nên lệnh này không bật/tắt nó. Khi dịch vụ đang chạy, hãy dùng `loa now TỆP` để phát ngay hoặc `loa stop` để dừng; để nghe thử mà không bật ampli: `loa play --no-relay TỆP`.",
                "the amplifier is driven by another loa program (the loa run service, or another loa play), so this command does not switch it. While the service runs, use `loa now FILE` to air at once or `loa stop` to stop; to listen without the amplifier: `loa play --no-relay FILE`"
            ),
            RelayError::RppalNotBuilt => tr!(
                lang,
                "Bản loa này được biên dịch không kèm rppal; hãy biên dịch lại bằng `cargo build --release --features rppal`, hoặc đặt [relay] backend = \"gpio\" (chạy được trên mọi bo mạch, kể cả Pi 5).",
                "this build of loa has no rppal support; rebuild it with `cargo build --release --features rppal`, or set [relay] backend = \"gpio\" (works on every board, the Pi 5 included)"
            ),
            RelayError::NotRaspberryPi => tr!(
                lang,
                "Thư viện rppal không nhận ra bo mạch này là Raspberry Pi; hãy đặt [relay] backend = \"gpio\".",
                "rppal does not recognise this board as a Raspberry Pi; set [relay] backend = \"gpio\""
            ),
            RelayError::PinNotAvailable { pin } => tr!(
                lang,
                "Raspberry Pi này không có GPIO {pin}; hãy ghi số GPIO kiểu BCM (từ 0 đến 27) vào [relay] line, ví dụ 17.",
                "this Raspberry Pi has no GPIO {pin}; give a BCM GPIO number (0 to 27) in [relay] line, e.g. 17"
            ),
            RelayError::NotABcmNumber { name } => tr!(
                lang,
                "Với kiểu rơ-le \"rppal\", [relay] line phải là số GPIO kiểu BCM, mà \"{name}\" thì không phải; hãy ghi line = 17 hoặc line = \"GPIO17\".",
                "with backend \"rppal\", [relay] line must be a BCM GPIO number; \"{name}\" is not one: write line = 17 or line = \"GPIO17\""
            ),
            RelayError::SimFile { path, source } => {
                let shown = display_path(path);
                let reason = match source.kind() {
                    std::io::ErrorKind::PermissionDenied => lang
                        .pick("không có quyền ghi", "permission denied")
                        .to_string(),
                    _ => source.to_string(),
                };
                tr!(
                    lang,
                    "Không ghi được tệp {shown} của ampli giả lập ({reason}); hãy sửa [relay] sim-file, hoặc cho phép ghi vào thư mục chứa tệp.",
                    "cannot write the simulated relay's file {shown}: {reason}; correct [relay] sim-file or make its folder writable"
                )
            }
            RelayError::Zone { zone, source } => {
                let inner = source.message(lang);
                tr!(
                    lang,
                    "Rơ-le của vùng \"{zone}\" ([[zone]]): {inner}",
                    "the relay of zone \"{zone}\" ([[zone]]): {inner}"
                )
            }
            RelayError::Backend { relay, detail } => tr!(
                lang,
                "Không điều khiển được rơ-le của ampli ({relay}): {detail}. Hãy kiểm tra dây nối và cấu hình [relay], rồi chạy `loa relay off`.",
                "cannot switch the relay {relay}: {detail}; check the wiring and the [relay] settings, then run `loa relay off`"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LineSpec;
    use crate::schedule::clock::SystemClock;

    #[test]
    fn open_with_a_missing_chip_names_it() {
        let mut cfg = Config::defaults(std::path::Path::new("."));
        cfg.relay.backend = RelayBackend::Gpio;
        cfg.relay.chip = "gpiochip-loa-test-missing".into();
        cfg.relay.line = LineSpec::Offset(17);
        let err = match open(&cfg, Arc::new(SystemClock)) {
            Ok(r) => panic!("a missing chip opened as {}", r.describe()),
            Err(e) => e,
        };
        assert!(
            matches!(&err, RelayError::ChipMissing { chip, .. } if chip == "gpiochip-loa-test-missing"),
            "{err:?}"
        );
        for lang in [Lang::Vi, Lang::En] {
            let m = err.message(lang);
            assert!(m.contains("\"gpiochip-loa-test-missing\""), "{m}");
        }
        assert!(err.message(Lang::En).contains("[relay] "));
    }

    #[cfg(not(feature = "rppal"))]
    #[test]
    fn rppal_without_the_feature_says_how_to_get_it() {
        let mut cfg = Config::defaults(std::path::Path::new("."));
        cfg.relay.backend = RelayBackend::Rppal;
        let err = open(&cfg, Arc::new(SystemClock))
            .err()
            .expect("no rppal here");
        assert!(matches!(err, RelayError::RppalNotBuilt));
        let en = err.message(Lang::En);
        assert!(
            en.contains("--features rppal") && en.contains("\"gpio\""),
            "{en}"
        );
        assert!(err.message(Lang::Vi).contains("--features rppal"));
    }

    #[test]
    fn busy_line_messages_name_the_line_and_the_holder() {
        let e = RelayError::LineBusy {
            line: "gpiochip0 line 17 (GPIO17)".into(),
            consumer: "gpio-fan".into(),
        };
        for lang in [Lang::Vi, Lang::En] {
            let m = e.message(lang);
            assert!(
                m.contains("gpiochip0 line 17 (GPIO17)") && m.contains("gpio-fan"),
                "{m}"
            );
        }
        let e = RelayError::LineBusy {
            line: "gpiochip0 line 17".into(),
            consumer: CONSUMER.into(),
        };
        assert!(e.message(Lang::En).contains("systemctl stop loa"));
    }
}
