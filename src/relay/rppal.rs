//! The `rppal` backend (Cargo feature `rppal`), for Raspberry Pi users who
//! want it: the pin by its BCM number, driven through rppal. rppal is in
//! maintenance mode, so `gpio` stays the default. It must not leave the pin
//! on: dropping the relay drives the pin off first, then rppal puts the pin
//! back in the mode it found it in (an input that the wiring's pull resistor
//! holds at "off"; an output stays driven off).

use std::sync::{Arc, Mutex};

use ::rppal::gpio::{Error, Gpio, Level, Mode, OutputPin};

use super::{EmergencyOff, Relay, RelayError};
use crate::config::{LineSpec, RelayConfig};

/// The relay on a Raspberry Pi pin.
pub struct RppalRelay {
    /// Shared with the emergency off.
    pin: Arc<Mutex<OutputPin>>,
    bcm: u8,
    active_low: bool,
}

impl RppalRelay {
    /// Takes the pin as an output, starting off.
    pub fn open(cfg: &RelayConfig) -> Result<RppalRelay, RelayError> {
        let bcm = bcm_number(&cfg.line)?;
        let gpio = Gpio::new().map_err(|e| rppal_error(bcm, e))?;
        let pin = gpio.get(bcm).map_err(|e| rppal_error(bcm, e))?;
        // Off from the first instant: high when the relay is active-low.
        let out = if cfg.active_low {
            pin.into_output_high()
        } else {
            pin.into_output_low()
        };
        Ok(RppalRelay {
            pin: Arc::new(Mutex::new(out)),
            bcm,
            active_low: cfg.active_low,
        })
    }
}

/// The level that means `on` for this wiring.
fn level(on: bool, active_low: bool) -> Level {
    if on != active_low {
        Level::High
    } else {
        Level::Low
    }
}

impl Relay for RppalRelay {
    fn set(&mut self, on: bool) -> Result<(), RelayError> {
        let mut pin = self.pin.lock().unwrap_or_else(|e| e.into_inner());
        pin.write(level(on, self.active_low));
        Ok(())
    }

    fn describe(&self) -> String {
        format!("GPIO{} (rppal)", self.bcm)
    }

    /// The pin's own lock, tried, never waited for: rppal's writes do not
    /// panic, so it is free unless another thread is mid-write.
    fn emergency_off(&self) -> Option<EmergencyOff> {
        let pin = self.pin.clone();
        let off = level(false, self.active_low);
        Some(Box::new(move || match pin.try_lock() {
            Ok(mut p) => p.write(off),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().write(off),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }))
    }
}

impl Drop for RppalRelay {
    fn drop(&mut self) {
        let mut pin = self.pin.lock().unwrap_or_else(|e| e.into_inner());
        pin.write(level(false, self.active_low));
    }
}

/// What `loa relay status` shows for rppal, read without changing the pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinStatus {
    pub bcm: u8,
    pub output: bool,
    /// Mode name as rppal reports it ("Input", "Output", "Alt0"…).
    pub mode: String,
    pub high: bool,
    /// Whether that level means the amplifier is on, given `active-low`.
    pub on: bool,
}

pub fn status(cfg: &RelayConfig) -> Result<PinStatus, RelayError> {
    let bcm = bcm_number(&cfg.line)?;
    let gpio = Gpio::new().map_err(|e| rppal_error(bcm, e))?;
    let pin = gpio.get(bcm).map_err(|e| rppal_error(bcm, e))?;
    let mode = pin.mode();
    let high = pin.read() == Level::High;
    Ok(PinStatus {
        bcm,
        output: mode == Mode::Output,
        mode: format!("{mode:?}"),
        high,
        on: high != cfg.active_low,
    })
}

/// The BCM number: the line's offset, or the number in "GPIO17" / "BCM17".
pub fn bcm_number(line: &LineSpec) -> Result<u8, RelayError> {
    match line {
        LineSpec::Offset(n) => {
            u8::try_from(*n).map_err(|_| RelayError::PinNotAvailable { pin: *n })
        }
        LineSpec::Name(name) => {
            let upper = name.trim().to_ascii_uppercase();
            let digits = upper
                .strip_prefix("GPIO")
                .or_else(|| upper.strip_prefix("BCM"))
                .unwrap_or(&upper)
                .trim_start_matches(['_', '-', ' ']);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RelayError::NotABcmNumber { name: name.clone() });
            }
            let n: u32 = digits
                .parse()
                .map_err(|_| RelayError::NotABcmNumber { name: name.clone() })?;
            u8::try_from(n).map_err(|_| RelayError::PinNotAvailable { pin: n })
        }
    }
}

fn rppal_error(bcm: u8, e: Error) -> RelayError {
    match e {
        Error::UnknownModel => RelayError::NotRaspberryPi,
        Error::PinUsed(n) => RelayError::LineBusy {
            line: format!("GPIO{n} (rppal)"),
            consumer: super::CONSUMER.into(),
        },
        Error::PinNotAvailable(n) => RelayError::PinNotAvailable { pin: n.into() },
        Error::PermissionDenied(path) => RelayError::PermissionDenied { path },
        Error::Io(e) => RelayError::Backend {
            relay: format!("GPIO{bcm} (rppal)"),
            detail: e.to_string(),
        },
        Error::ThreadPanic => RelayError::Backend {
            relay: format!("GPIO{bcm} (rppal)"),
            detail: "rppal's interrupt thread panicked".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcm_numbers_from_offsets_and_names() {
        assert_eq!(bcm_number(&LineSpec::Offset(17)).unwrap(), 17);
        for name in ["GPIO17", "gpio17", "BCM17", "GPIO_17", "17"] {
            assert_eq!(
                bcm_number(&LineSpec::Name(name.into())).unwrap(),
                17,
                "{name}"
            );
        }
        for bad in ["PIN11", "GPIO", "GPIO17A", ""] {
            assert!(
                matches!(
                    bcm_number(&LineSpec::Name(bad.into())),
                    Err(RelayError::NotABcmNumber { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            bcm_number(&LineSpec::Offset(300)),
            Err(RelayError::PinNotAvailable { pin: 300 })
        ));
    }

    #[test]
    fn levels_honour_active_low() {
        assert_eq!(level(true, false), Level::High);
        assert_eq!(level(false, false), Level::Low);
        assert_eq!(level(true, true), Level::Low);
        assert_eq!(level(false, true), Level::High);
    }

    #[test]
    fn off_a_raspberry_pi_it_says_what_to_do() {
        // On a Pi this would take the pin: only run where rppal finds none.
        if Gpio::new().is_ok() {
            crate::testing::skipped("this is a Raspberry Pi; not touching its pins in a unit test");
            return;
        }
        let mut cfg = crate::config::Config::defaults(std::path::Path::new(".")).relay;
        cfg.backend = crate::config::RelayBackend::Rppal;
        let err = RppalRelay::open(&cfg).err().expect("no Pi here");
        assert!(matches!(err, RelayError::NotRaspberryPi), "{err:?}");
        let m = err.message(crate::lang::Lang::En);
        assert!(m.contains("backend = \"gpio\""), "{m}");
    }
}
