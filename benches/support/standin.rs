//! The ALSA stand-in both benches play into: an asoundrc whose default
//! device is a `plug` to S16_LE, 48 kHz, stereo, into the `file` plugin,
//! which writes to the path in `LOA_TEST_CAPTURE` (a file, a FIFO or
//! `/dev/null`) with a `null` slave. It paces nothing: whoever reads the
//! capture sets the pace (the daemon bench's paced card does; a plain file
//! or /dev/null takes sound as fast as it comes).

use std::path::Path;

/// The asoundrc, read from `XDG_CONFIG_HOME/alsa/asoundrc`.
pub const ASOUNDRC: &str = r#"pcm.!default {
  type plug
  slave { pcm "loa_capture"; format S16_LE; rate 48000; channels 2 }
}
pcm.loa_capture {
  type file
  slave.pcm "null"
  file { @func getenv vars [ LOA_TEST_CAPTURE ] default "/dev/null" }
  format "raw"
}
"#;

/// What the plug hands the file plugin: S16_LE, 48 kHz, stereo.
pub const CAPTURE_BYTES_PER_SECOND: f64 = 48_000.0 * 2.0 * 2.0;

/// Writes the asoundrc into `xdg/alsa/asoundrc` (the folders too), for a
/// child started with `XDG_CONFIG_HOME=xdg`.
pub fn write_asoundrc(xdg: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(xdg.join("alsa"))?;
    std::fs::write(xdg.join("alsa/asoundrc"), ASOUNDRC)
}
