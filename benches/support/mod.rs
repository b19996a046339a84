//! What the `play_vs_mpg123` and `daemon` benches share: the ALSA stand-in's
//! config, the test MP3, and small helpers (tools on the PATH, medians,
//! paths for printing). Each bench includes it with
//! `#[path = ".../support/mod.rs"] mod support;` (a bench is a crate of its
//! own). It holds only what both use; a bench's own machinery stays in that
//! bench, and nothing here prints a figure.

use std::path::{Path, PathBuf};

pub mod media;
pub mod standin;

/// The tools of `tools` that are not on the PATH, in the same order.
pub fn missing<'a>(tools: &[&'a str]) -> Vec<&'a str> {
    tools.iter().copied().filter(|t| !on_path(t)).collect()
}

/// Whether an executable file named `tool` is in a folder of the PATH.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let p = d.join(tool);
            p.is_file()
                && std::fs::metadata(&p)
                    .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
                    .unwrap_or(false)
        })
    })
}

/// The folder the test audio is made in once and kept: `target/bench-data`,
/// beside `target/<profile>/loa`.
pub fn bench_data(loa: &Path) -> Option<PathBuf> {
    Some(loa.parent()?.parent()?.join("bench-data"))
}

/// The median (the mean of the middle two for an even count; NaN for none).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// A path relative to the repository when below it.
pub fn rel(p: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}
