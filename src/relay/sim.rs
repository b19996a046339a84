//! The simulated relay: no hardware. Every edge is logged, and when
//! `[relay] sim-file` is set, appended to that file as one line, exactly
//! `TIMESTAMP on` or `TIMESTAMP off` (RFC 3339 in the commune's offset, with
//! milliseconds: `2026-01-20T05:59:57.003+07:00 on`); a zone's relay writes
//! `TIMESTAMP zone NAME on|off` to the same file. Other checks read that
//! file, so its format must not change. It must not keep any state but the
//! file: each line's last edge in it is that simulated relay's level,
//! shared by the daemon and `loa relay` alike.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tracing::{debug, error, info};

use super::{EmergencyOff, Relay, RelayError};
use crate::schedule::clock::Clock;

/// The timestamp format of the sim-file: RFC 3339, milliseconds, offset.
const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f%:z";

/// The relay without hardware.
pub struct SimRelay {
    /// Where edges are appended; `None`: they are only logged.
    file: Option<PathBuf>,
    /// The commune's zone: the file's timestamps carry its offset.
    tz: TimeZone,
    clock: Arc<dyn Clock>,
    /// The level when there is no file (`None` until the first switch).
    level: Option<bool>,
    /// A zone's relay: its name; None: the amplifier's.
    zone: Option<String>,
}

impl SimRelay {
    /// A simulated relay appending to `file` (if any), stamping edges by
    /// `clock` in `tz`.
    pub fn new(file: Option<PathBuf>, tz: TimeZone, clock: Arc<dyn Clock>) -> SimRelay {
        SimRelay {
            file,
            tz,
            clock,
            level: None,
            zone: None,
        }
    }

    /// The simulated relay of the zone `name`, on the same file.
    pub fn for_zone(
        file: Option<PathBuf>,
        tz: TimeZone,
        clock: Arc<dyn Clock>,
        name: &str,
    ) -> SimRelay {
        SimRelay {
            zone: Some(name.to_string()),
            ..SimRelay::new(file, tz, clock)
        }
    }
}

impl Relay for SimRelay {
    /// Appends a line only on a real edge: when the file's last line already
    /// says the level asked for, nothing is written. A missing or empty file
    /// is an unknown level, so the first switch is always written.
    fn set(&mut self, on: bool) -> Result<(), RelayError> {
        let zone = self.zone.as_deref();
        let Some(path) = &self.file else {
            if self.level == Some(on) {
                debug!(relay = "sim", zone, on, "relay already there");
            } else {
                info!(relay = "sim", zone, on, "relay edge");
                self.level = Some(on);
            }
            return Ok(());
        };
        // An unreadable last line is an unknown level: write the edge.
        if let Ok(Some(last)) = last_edge(path, zone)
            && last.on == on
        {
            debug!(relay = "sim", zone, on, file = %path.display(), "relay already there");
            return Ok(());
        }
        append_edge(path, self.clock.now(), &self.tz, zone, on)?;
        info!(relay = "sim", zone, on, file = %path.display(), "relay edge");
        Ok(())
    }

    fn describe(&self) -> String {
        let what = match &self.zone {
            None => "sim".to_string(),
            Some(z) => format!("sim zone {z}"),
        };
        match &self.file {
            None => what,
            Some(p) => format!("{what} ({})", p.display()),
        }
    }

    /// Appends the off line directly: a file append needs no lock.
    fn emergency_off(&self) -> Option<EmergencyOff> {
        let file = self.file.clone();
        let tz = self.tz.clone();
        let clock = self.clock.clone();
        let zone = self.zone.clone();
        Some(Box::new(move || {
            info!(
                relay = "sim",
                zone = zone.as_deref(),
                on = false,
                "relay edge (emergency)"
            );
            if let Some(path) = &file
                && let Err(e) = append_edge(path, clock.now(), &tz, zone.as_deref(), false)
            {
                error!(error = %e, "the simulated relay could not record its emergency off");
            }
        }))
    }
}

/// One line of the sim-file, exactly as written (no newline): `TIMESTAMP
/// on|off` for the amplifier, `TIMESTAMP zone NAME on|off` for a zone.
pub fn format_line(at: Timestamp, tz: &TimeZone, zone: Option<&str>, on: bool) -> String {
    let stamp = at
        .to_zoned_datetime(tz.clone())
        .strftime(FORMAT)
        .to_string();
    let level = if on { "on" } else { "off" };
    match zone {
        None => format!("{stamp} {level}"),
        Some(z) => format!("{stamp} zone {z} {level}"),
    }
}

/// Appends one edge to `path` with a single write of the whole line,
/// creating the file and its folder if missing.
pub fn append_edge(
    path: &Path,
    at: Timestamp,
    tz: &TimeZone,
    zone: Option<&str>,
    on: bool,
) -> Result<(), RelayError> {
    let wrap = |source: io::Error| RelayError::SimFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        fs::create_dir_all(dir).map_err(wrap)?;
    }
    let mut line = format_line(at, tz, zone, on);
    line.push('\n');
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(wrap)?;
    // A device or a pipe (sim-file = "/dev/full") would fail or block: the
    // sim-file must be a plain file.
    if !f.metadata().map_err(wrap)?.is_file() {
        return Err(wrap(not_a_file()));
    }
    // One write call: O_APPEND makes it land whole at the end even when the
    // daemon and `loa relay` write at once.
    let n = f.write(line.as_bytes()).map_err(wrap)?;
    if n != line.len() {
        return Err(wrap(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("short write ({n} of {} bytes)", line.len()),
        )));
    }
    f.flush().map_err(wrap)
}

fn not_a_file() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file (a device, a pipe or a folder)",
    )
}

/// An edge read back from the sim-file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimEdge {
    /// True for on, false for off.
    pub on: bool,
    /// When it switched.
    pub at: Timestamp,
    /// The timestamp exactly as written (with the commune's offset).
    pub stamp: String,
    /// The zone's name for a zone's line; None for the amplifier's.
    pub zone: Option<String>,
}

/// Parses one line of the sim-file; `None` if it is not `TIMESTAMP on|off`
/// or `TIMESTAMP zone NAME on|off` in the exact format.
pub fn parse_line(line: &str) -> Option<SimEdge> {
    let (stamp, rest) = line.split_once(' ')?;
    let (zone, state) = match rest.strip_prefix("zone ") {
        Some(z) => {
            let (name, state) = z.split_once(' ')?;
            if !crate::config::zone::valid_name(name) {
                return None;
            }
            (Some(name.to_string()), state)
        }
        None => (None, rest),
    };
    let on = match state {
        "on" => true,
        "off" => false,
        _ => return None,
    };
    // YYYY-MM-DDTHH:MM:SS.mmm+HH:MM: 29 characters, always.
    let b = stamp.as_bytes();
    if b.len() != 29 || b[10] != b'T' || b[19] != b'.' || !matches!(b[23], b'+' | b'-') {
        return None;
    }
    let at: Timestamp = stamp.parse().ok()?;
    Some(SimEdge {
        on,
        at,
        stamp: stamp.to_string(),
        zone,
    })
}

/// The last edge of one line (`zone` None: the amplifier's) in the
/// sim-file: `Ok(None)` when the file is missing, empty or has no edge of
/// that line; `Err` when it cannot be read or a line read before finding
/// one is not an edge.
pub fn last_edge(path: &Path, zone: Option<&str>) -> io::Result<Option<SimEdge>> {
    let mut f = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // /dev/zero reads forever, a pipe blocks: only a plain file is read.
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(not_a_file());
    }
    // Lines are ~35 bytes: the tail holds a few hundred edges, enough to
    // find each line's last one however long the file grows (a line not
    // found there is an unknown level: its next switch is written).
    const TAIL: u64 = 16 * 1024;
    let len = meta.len();
    let from = len.saturating_sub(TAIL);
    f.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    f.take(TAIL).read_to_end(&mut tail)?;
    let tail = String::from_utf8_lossy(&tail);
    let mut lines: Vec<&str> = tail.lines().collect();
    if from > 0 && !lines.is_empty() {
        // The first line of a tail taken mid-file is cut.
        lines.remove(0);
    }
    for last in lines.into_iter().rev().filter(|l| !l.trim().is_empty()) {
        let Some(edge) = parse_line(last.trim_end()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a line is not \"TIMESTAMP on|off\": {last:?}"),
            ));
        };
        if edge.zone.as_deref() == zone {
            return Ok(Some(edge));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestClock;

    fn hcm() -> TimeZone {
        TimeZone::get("Asia/Ho_Chi_Minh").unwrap()
    }

    #[test]
    fn the_line_format_is_exact() {
        let at: Timestamp = "2026-01-19T22:59:57.003456Z".parse().unwrap();
        assert_eq!(
            format_line(at, &hcm(), None, true),
            "2026-01-20T05:59:57.003+07:00 on"
        );
        let whole: Timestamp = "2026-01-19T23:00:00Z".parse().unwrap();
        assert_eq!(
            format_line(whole, &hcm(), None, false),
            "2026-01-20T06:00:00.000+07:00 off"
        );
        let west = TimeZone::fixed(jiff::tz::Offset::constant(-5));
        assert_eq!(
            format_line(whole, &west, None, false),
            "2026-01-19T18:00:00.000-05:00 off"
        );
        let e = parse_line("2026-01-20T05:59:57.003+07:00 on").unwrap();
        assert!(e.on);
        assert_eq!(e.at, "2026-01-19T22:59:57.003Z".parse().unwrap());
        for bad in [
            "2026-01-20T05:59:57+07:00 on",
            "2026-01-20T05:59:57.003Z on",
            "2026-01-20T05:59:57.003+07:00 ON",
            "2026-01-20T05:59:57.003+07:00  on",
            "2026-01-20 05:59:57.003+07:00 on",
            "",
        ] {
            assert_eq!(parse_line(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn writes_one_line_per_edge_with_the_clock_s_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/folder/relay.log");
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let mut r = SimRelay::new(Some(path.clone()), hcm(), clock.clone());
        assert_eq!(r.describe(), format!("sim ({})", path.display()));
        r.set(false).unwrap();
        clock.advance(std::time::Duration::from_millis(1500));
        r.set(true).unwrap();
        r.set(true).unwrap(); // not an edge: nothing written
        clock.advance(std::time::Duration::from_secs(62));
        r.set(false).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "2026-01-20T05:59:57.003+07:00 off\n\
             2026-01-20T05:59:58.503+07:00 on\n\
             2026-01-20T06:01:00.503+07:00 off\n"
        );
        let edges: Vec<SimEdge> = text.lines().map(|l| parse_line(l).unwrap()).collect();
        assert_eq!(
            edges.iter().map(|e| e.on).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert_eq!(
            edges[2].at.duration_since(edges[1].at).as_secs(),
            62,
            "the off came 62 s after the on"
        );
        assert_eq!(last_edge(&path, None).unwrap(), Some(edges[2].clone()));
    }

    #[test]
    fn zone_lines_share_the_file_and_keep_their_own_level() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.log");
        let clock = Arc::new(TestClock::at("2026-01-20T05:59:57.003+07:00"));
        let file = Some(path.clone());
        let mut amp = SimRelay::new(file.clone(), hcm(), clock.clone());
        let mut one = SimRelay::for_zone(file.clone(), hcm(), clock.clone(), "thon-1");
        let mut two = SimRelay::for_zone(file, hcm(), clock.clone(), "thon-2");
        assert!(one.describe().starts_with("sim zone thon-1 ("));
        one.set(true).unwrap();
        amp.set(true).unwrap();
        clock.advance(std::time::Duration::from_secs(60));
        amp.set(false).unwrap();
        one.set(false).unwrap();
        // thon-2 never switched on: its off is still written once (an
        // unknown level), then not again.
        two.set(false).unwrap();
        two.set(false).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "2026-01-20T05:59:57.003+07:00 zone thon-1 on\n\
             2026-01-20T05:59:57.003+07:00 on\n\
             2026-01-20T06:00:57.003+07:00 off\n\
             2026-01-20T06:00:57.003+07:00 zone thon-1 off\n\
             2026-01-20T06:00:57.003+07:00 zone thon-2 off\n"
        );
        let e = parse_line("2026-01-20T05:59:57.003+07:00 zone thon-1 on").unwrap();
        assert_eq!((e.zone.as_deref(), e.on), (Some("thon-1"), true));
        assert_eq!(
            parse_line("2026-01-20T05:59:57.003+07:00 zone Thôn on"),
            None
        );
        assert_eq!(
            parse_line("2026-01-20T05:59:57.003+07:00 zone thon-1"),
            None
        );
        let amp_last = last_edge(&path, None).unwrap().unwrap();
        assert!(!amp_last.on && amp_last.zone.is_none());
        assert!(!last_edge(&path, Some("thon-1")).unwrap().unwrap().on);
        assert_eq!(last_edge(&path, Some("thon-3")).unwrap(), None);
    }

    #[test]
    fn a_second_process_continues_from_the_file_s_level() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.log");
        let clock = Arc::new(TestClock::at("2026-01-20T05:00:00.000+07:00"));
        SimRelay::new(Some(path.clone()), hcm(), clock.clone())
            .set(true)
            .unwrap();
        // A new SimRelay (a new process): "on" again is not an edge, "off" is.
        let mut r = SimRelay::new(Some(path.clone()), hcm(), clock.clone());
        r.set(true).unwrap();
        clock.advance(std::time::Duration::from_secs(1));
        r.set(false).unwrap();
        let lines: Vec<String> = fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(
            lines,
            [
                "2026-01-20T05:00:00.000+07:00 on",
                "2026-01-20T05:00:01.000+07:00 off"
            ]
        );
    }

    #[test]
    fn emergency_off_appends_without_the_relay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.log");
        let clock = Arc::new(TestClock::at("2026-01-20T05:00:00.000+07:00"));
        let mut r = SimRelay::new(Some(path.clone()), hcm(), clock);
        r.set(true).unwrap();
        let off = r.emergency_off().expect("sim has an emergency off");
        off();
        assert!(!last_edge(&path, None).unwrap().unwrap().on);
    }

    #[test]
    fn an_unwritable_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be.
        let path = dir.path().join("relay.log");
        fs::create_dir(&path).unwrap();
        let clock = Arc::new(TestClock::at("2026-01-20T05:00:00.000+07:00"));
        let err = SimRelay::new(Some(path.clone()), hcm(), clock)
            .set(true)
            .unwrap_err();
        assert!(matches!(&err, RelayError::SimFile { path: p, .. } if *p == path));
        let m = err.message(crate::lang::Lang::En);
        assert!(m.contains("relay.log") && m.contains("sim-file"), "{m}");
    }

    #[test]
    fn last_edge_of_a_missing_or_empty_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.log");
        assert_eq!(last_edge(&path, None).unwrap(), None);
        fs::write(&path, "").unwrap();
        assert_eq!(last_edge(&path, None).unwrap(), None);
        fs::write(&path, "garbage\n").unwrap();
        assert!(last_edge(&path, None).is_err());
    }
}
