//! Containing panics in work on untrusted input: decoding an uploaded file
//! (probe, validation, playback) runs inside [`contained`], so that a
//! decoder that panics on a malformed file fails that file alone, with a
//! reason, instead of taking a thread (or the service) down. The relay's
//! panic hook asks [`is_contained`] and leaves the amplifier alone for a
//! contained panic: the airing sequence deals with the failed item itself.
//! It must not be used to hide loa's own bugs: only around calls into
//! decoders fed with files from outside.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// How deep this thread is inside `contained` calls.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Panics contained so far in this process (the fuzz tests count them).
static CAUGHT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many panics [`contained`] has caught in this process.
pub fn caught() -> u64 {
    CAUGHT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Runs `f`; a panic inside it comes back as `Err` with the panic's
/// message instead of unwinding further.
pub fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    DEPTH.with(|d| d.set(d.get() + 1));
    let out = panic::catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    out.map_err(|payload| {
        CAUGHT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        message(payload.as_ref())
    })
}

/// Whether the current thread is inside [`contained`] (for the panic hook).
pub fn is_contained() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Installs (once) a panic hook that keeps contained panics off the
/// operator's screen: they are logged as a warning (the caller reports the
/// failed file in its own words); any other panic goes to the previous
/// hook as before. `main` installs it before anything else.
pub fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if is_contained() {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                tracing::warn!(panic = %message(info.payload()), at = %at, "{}", crate::lang::log("bộ giải mã bị lỗi với một tệp; chỉ tệp đó bị từ chối", "a decoder failed on a file; that file alone is refused"));
                return;
            }
            previous(info);
        }));
    });
}

/// The text a panic was raised with.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_comes_back_as_an_error_with_its_message() {
        assert_eq!(contained(|| 4), Ok(4));
        let e = contained(|| -> u32 { panic!("TimeBase cannot have 0 numerator") });
        assert_eq!(e, Err("TimeBase cannot have 0 numerator".to_string()));
        assert!(!is_contained());
        let nested = contained(|| {
            assert!(is_contained());
            contained(|| panic!("inner {}", 1)).unwrap_err()
        });
        assert_eq!(nested, Ok("inner 1".to_string()));
        assert!(!is_contained());
    }
}
