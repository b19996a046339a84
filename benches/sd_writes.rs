//! What `loa run` writes to the SD card (issue 19, "Power cuts and the SD
//! card"): a real `loa run` (release build) through a compressed typical day
//! (the start, three broadcasts of the shipped samples with 3, 5 and 7
//! items, and idle time), on the paced stand-in card, with the default
//! config (WAL database, the archive at 32 kbps, the status note), logging
//! at `info` as the shipped unit does. Two measurements:
//!
//! 1. what loa writes, by destination: every write/pwrite64/writev of loa's
//!    threads, traced with `strace -f -yy` (the path of each descriptor),
//!    and its fsyncs; stderr (what journald would store) apart;
//! 2. as root, what reaches the card: the installation (audio, playlists,
//!    state) on an ext4 image mounted through a loop device, its sectors
//!    written read from /sys/block/loopN/stat, synced (`sync -f`) at each
//!    window's end. This adds what write(2) cannot show: the ext4 journal,
//!    metadata, and the WAL index (`loa.db-shm`, written through mmap).
//!    Without root, only the first.
//!
//! Then a typical day, extrapolated from the measured figures: 3 broadcasts
//! of 10 items, 60 minutes on air in all, 23 hours idle. The per-item and
//! per-broadcast costs come from a straight line through the three
//! broadcasts (rows are per item; relay edges, archive rows per broadcast),
//! the archive from its bytes per second aired.
//!
//! Run: `cargo bench --bench sd_writes` (about 9 minutes; needs strace;
//! the card's figures need root, for the loop device).
//! A smoke run: `LOA_BENCH_QUICK=1 cargo bench --bench sd_writes`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use jiff::Timestamp;
use jiff::tz::TimeZone;

const TZ: &str = "Asia/Ho_Chi_Minh";

/// The broadcasts: their items (shipped samples).
const BROADCASTS: [&[&str]; 3] = [
    &["nhac-hieu.mp3", "dai-hoi/ban-tin-1.mp3", "ket-thuc.mp3"],
    &[
        "nhac-hieu.mp3",
        "thong-bao-chung.mp3",
        "dai-hoi/ban-tin-1.mp3",
        "dai-hoi/ban-tin-2.mp3",
        "ket-thuc.mp3",
    ],
    &[
        "nhac-hieu.mp3",
        "truoc-dai-hoi/ban-tin-1.mp3",
        "truoc-dai-hoi/ban-tin-2.mp3",
        "thong-bao-chung.mp3",
        "sau-dai-hoi/ban-tin-1.mp3",
        "sau-dai-hoi/ban-tin-2.mp3",
        "ket-thuc.mp3",
    ],
];

/// The typical day the figures are extrapolated to.
const DAY_BROADCASTS: f64 = 3.0;
const DAY_ITEMS: f64 = 30.0;
const DAY_AIR_S: f64 = 3600.0;
const DAY_IDLE_H: f64 = 23.0;

/// Where a write went, as the summary groups it.
fn destination(path: &str, root: &Path) -> &'static str {
    let rel = Path::new(path).strip_prefix(root).ok();
    let rel = rel.map(|r| r.to_string_lossy().into_owned());
    match rel.as_deref() {
        Some("state/loa.db") => "database (loa.db)",
        Some("state/loa.db-wal") => "database WAL (loa.db-wal)",
        Some("state/loa.db-shm") => "WAL index (loa.db-shm)",
        Some(r) if r.starts_with("state/archive/") => "archive (state/archive)",
        // loa writes nothing else there (no upload in this run).
        Some(r) if r.starts_with("audio/") => "status note (audio/TINH-TRANG.txt)",
        Some(r) if r.starts_with("state") => "state folder, other",
        Some(_) => "installation, other",
        None if path == "LOG" => "log (stderr: journald)",
        None if path.starts_with('/') => "elsewhere (the stand-in card's pipe)",
        None => "not a file (sockets, pipes, eventfd)",
    }
}

/// Whether writes to `dest` go to a file of the installation (the card).
fn on_card(dest: &str) -> bool {
    !(dest.starts_with("log") || dest.starts_with("elsewhere") || dest.starts_with("not a file"))
}

/// The periods of the run, in order: "start", "broadcast N", "idle".
#[derive(Clone)]
struct Window {
    name: String,
    from: f64,
    to: f64,
    /// Bytes written to the loop device (None without the image).
    device: Option<u64>,
}

/// A write (or fsync, bytes 0) traced: when (Unix seconds), where, bytes.
struct Traced {
    at: f64,
    dest: &'static str,
    bytes: u64,
    fsync: bool,
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The ext4 image the installation lives on, when this is root: unmounted
/// (and its loop device freed) when dropped.
struct Image {
    mount: PathBuf,
    stat: PathBuf,
}

impl Image {
    fn mount(dir: &Path) -> Option<Image> {
        let img = dir.join("card.img");
        let mount = dir.join("card");
        std::fs::create_dir_all(&mount).ok()?;
        let ok = |c: &mut Command| c.status().is_ok_and(|s| s.success());
        let made = ok(Command::new("truncate").args(["-s", "256M"]).arg(&img))
            && ok(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&img))
            && ok(Command::new("mount")
                .args(["-o", "loop"])
                .arg(&img)
                .arg(&mount));
        if !made {
            return None;
        }
        let out = Command::new("findmnt")
            .args(["-n", "-o", "SOURCE"])
            .arg(&mount)
            .output()
            .ok()?;
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let name = Path::new(&dev).file_name()?.to_string_lossy().into_owned();
        let image = Image {
            mount,
            stat: PathBuf::from(format!("/sys/block/{name}/stat")),
        };
        image.written().map(|_| image)
    }

    /// Bytes written to the device so far, after syncing the filesystem.
    fn written(&self) -> Option<u64> {
        let _ = Command::new("sync").arg("-f").arg(&self.mount).status();
        let stat = std::fs::read_to_string(&self.stat).ok()?;
        let sectors: u64 = stat.split_whitespace().nth(6)?.parse().ok()?;
        Some(sectors * 512)
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount).status();
    }
}

/// The installation: config, audio, playlists, state below `root`; the
/// relay's sim-file and loa's stderr outside it (not on a box's card).
fn install(root: &Path, outside: &Path, loa: &Path) -> PathBuf {
    for d in ["audio", "playlists", "state"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for b in BROADCASTS {
        for item in b {
            let to = root.join("audio").join(item);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(repo.join("audio").join(item), &to).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&to)
                .and_then(|f| f.set_modified(SystemTime::now() - Duration::from_secs(3600)))
                .unwrap();
        }
    }
    // The stand-in card (benches/support/standin.rs): a plug into the
    // `file` plugin, writing where LOA_TEST_CAPTURE says.
    std::fs::create_dir_all(outside.join("xdg/alsa")).unwrap();
    std::fs::write(
        outside.join("xdg/alsa/asoundrc"),
        "pcm.!default { type plug\n slave { pcm \"loa_capture\"; format S16_LE; rate 48000; channels 2 } }\n\
         pcm.loa_capture { type file\n slave.pcm \"null\"\n \
         file { @func getenv vars [ LOA_TEST_CAPTURE ] default \"/dev/null\" }\n format \"raw\" }\n",
    )
    .unwrap();
    let config = root.join("loa.toml");
    std::fs::write(
        &config,
        format!(
            "language = \"en\"\ntimezone = \"{TZ}\"\n[paths]\naudio = \"audio\"\n\
             playlists = \"playlists\"\nstate = \"state\"\n[relay]\nbackend = \"sim\"\n\
             sim-file = {:?}\n[schedule]\nrequire-clock-sync = false\n",
            outside.join("relay.log").to_str().unwrap()
        ),
    )
    .unwrap();
    // The media index filled as long before airing as a real upload is.
    let _ = Command::new(loa)
        .args(["--config", config.to_str().unwrap(), "check", "--days", "1"])
        .env("XDG_CONFIG_HOME", outside.join("xdg"))
        .output();
    config
}

/// Today's playlist: the broadcasts from `lead` seconds on, `spacing`
/// seconds apart (start to start); their `at`s as instants.
fn playlist(root: &Path, lead: i64, spacing: &[i64], quick: bool) -> Vec<Timestamp> {
    let tz = TimeZone::get(TZ).unwrap();
    let mut at = Timestamp::now() + jiff::SignedDuration::from_secs(lead);
    let mut toml = String::new();
    let mut ats = Vec::new();
    let n = if quick { 1 } else { BROADCASTS.len() };
    for (i, items) in BROADCASTS.iter().take(n).enumerate() {
        let local = tz.to_datetime(at);
        let items: Vec<String> = items.iter().map(|f| format!("{f:?}")).collect();
        toml += &format!(
            "[[broadcast]]\nat = \"{:02}:{:02}:{:02}\"\ntitle = \"B{}\"\nitems = [{}]\n\n",
            local.hour(),
            local.minute(),
            local.second(),
            i + 1,
            items.join(", ")
        );
        ats.push(at.round(jiff::Unit::Second).unwrap());
        at += jiff::SignedDuration::from_secs(spacing[i]);
    }
    let date = tz.to_datetime(Timestamp::now()).date();
    std::fs::write(root.join(format!("playlists/{date}.toml")), toml).unwrap();
    ats
}

fn main() {
    println!("== what loa writes to the SD card (issue 19) ==");
    println!("command: cargo bench --bench sd_writes");
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("LOA_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let strace = Command::new("strace").arg("-V").output();
    if !strace.is_ok_and(|o| o.status.success()) {
        println!("SKIPPED, no figures: strace is missing (apt-get install strace)");
        return;
    }
    let loa = PathBuf::from(env!("CARGO_BIN_EXE_loa"));
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().canonicalize().unwrap();
    let image = Image::mount(&outside);
    let root = match &image {
        Some(i) => i.mount.clone(),
        None => outside.join("install"),
    };
    match &image {
        Some(i) => println!(
            "card:    an ext4 image on a loop device ({})",
            i.stat.display()
        ),
        None => println!("card:    none (not root): what loa writes only"),
    }
    let config = install(&root, &outside, &loa);
    let idle_s = if quick { 20 } else { 300 };
    let lead = 15;
    let ats = playlist(&root, lead, &[50, 75, 0], quick);
    let trace = outside.join("strace.txt");
    let log = outside.join("loa.err");
    let card = loa::player::standin::PacedCapture::start(
        &outside.join("card.fifo"),
        Path::new("/dev/null"),
    )
    .expect("the paced card");
    let child = Command::new("strace")
        .args(["-f", "-qq", "-ttt", "-yy", "-s", "0", "-o"])
        .arg(&trace)
        .args([
            "-e",
            "trace=write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync",
        ])
        .arg(&loa)
        .args(["--config", config.to_str().unwrap(), "run"])
        .current_dir(&root)
        .env("XDG_CONFIG_HOME", outside.join("xdg"))
        .env("LOA_TEST_CAPTURE", outside.join("card.fifo"))
        .env("LOA_LOG", "info")
        .env_remove("LOA_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("strace loa run");
    let mut under_strace = LoaUnderStrace(child);
    let windows = run_day(&image, &outside, &ats, idle_s, &mut under_strace.0);
    drop(under_strace);
    card.stop();
    let traced = parse(&trace, &root);
    println!("traced:  {} writes and syncs (strace -f -yy)", traced.len());
    assert!(
        traced.iter().any(|t| t.dest.starts_with("database")),
        "strace recorded no write to the database: no figures"
    );
    report(&windows, &traced, &outside.join("relay.log"), quick);
    drop(image);
}

/// Waits through the day, closing a window at each boundary: the start
/// until 2 s before the first relay-on, each broadcast until 2 s after
/// its relay-off, the time between, and `idle_s` at the end.
fn run_day(
    image: &Option<Image>,
    outside: &Path,
    ats: &[Timestamp],
    idle_s: u64,
    child: &mut Child,
) -> Vec<Window> {
    let sim = outside.join("relay.log");
    let mut windows = Vec::new();
    let mut from = now_s();
    let mut last = image.as_ref().and_then(Image::written);
    let mut close = |name: String, windows: &mut Vec<Window>| {
        let to = now_s();
        let dev = image.as_ref().and_then(Image::written);
        windows.push(Window {
            name,
            from,
            to,
            device: dev.zip(last).map(|(a, b)| a - b),
        });
        from = to;
        last = dev;
    };
    let warm_up = 3.0;
    for (i, at) in ats.iter().enumerate() {
        let on = at.as_millisecond() as f64 / 1000.0 - warm_up;
        sleep_until(on - 2.0);
        let name = if i == 0 { "start" } else { "idle" };
        close(name.to_string(), &mut windows);
        // Its relay-off: the (i+1)th "off" after the start-up's.
        let t = Instant::now();
        while count_offs(&sim) < i + 2 {
            assert!(
                child.try_wait().unwrap().is_none(),
                "loa run ended during the day"
            );
            assert!(t.elapsed() < Duration::from_secs(300), "no relay-off");
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_secs(2));
        close(format!("broadcast {}", i + 1), &mut windows);
    }
    std::thread::sleep(Duration::from_secs(idle_s));
    close("idle".to_string(), &mut windows);
    windows
}

/// strace running `loa run`: on every way out, loa is stopped (SIGTERM,
/// as systemd stops it), then strace ends with it.
struct LoaUnderStrace(Child);

impl Drop for LoaUnderStrace {
    fn drop(&mut self) {
        let pid = self.0.id();
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for loa in children.split_whitespace() {
            let _ = Command::new("kill").args(["-TERM", loa]).status();
        }
        let t = Instant::now();
        while self.0.try_wait().ok().flatten().is_none() && t.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sleep_until(t: f64) {
    let left = t - now_s();
    if left > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(left));
    }
}

fn count_offs(sim: &Path) -> usize {
    std::fs::read_to_string(sim)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with(" off"))
        .count()
}

/// The trace's writes and syncs. Lines look like
/// `PID 1700000000.123456 pwrite64(7</x/state/loa.db-wal>, ""..., 4096, 0) = 4096`,
/// possibly split in `<unfinished ...>` and `<... pwrite64 resumed>`.
fn parse(trace: &Path, root: &Path) -> Vec<Traced> {
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    let mut pending: BTreeMap<String, (f64, String, bool)> = BTreeMap::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(pid), Some(at), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(at) = at.parse::<f64>() else { continue };
        let (call_at, path, fsync, result) =
            if let Some(call) = rest.strip_suffix(" <unfinished ...>") {
                let (path, fsync) = call_path(call);
                pending.insert(pid.to_string(), (at, path, fsync));
                continue;
            } else if rest.starts_with("<... ") {
                let Some((at0, path, fsync)) = pending.remove(pid) else {
                    continue;
                };
                (at0, path, fsync, rest.rsplit(" = ").next().unwrap_or(""))
            } else {
                let (path, fsync) = call_path(rest);
                (at, path, fsync, rest.rsplit(" = ").next().unwrap_or(""))
            };
        let bytes: u64 = result.split(' ').next().unwrap_or("").parse().unwrap_or(0);
        let path = if path.starts_with("pipe:") || path == "/dev/null" || path.ends_with("loa.err")
        {
            "LOG".to_string()
        } else {
            path
        };
        out.push(Traced {
            at: call_at,
            dest: destination(&path, root),
            bytes: if fsync { 0 } else { bytes },
            fsync,
        });
    }
    out
}

/// The path of a traced call's descriptor (`write(3</a/b>, ...`), and
/// whether it is a sync.
fn call_path(call: &str) -> (String, bool) {
    let fsync = call.starts_with("fsync(") || call.starts_with("fdatasync(");
    let path = call
        .split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map_or(String::new(), |(p, _)| p.to_string());
    (path, fsync)
}

/// Bytes and syncs by destination in [from, to).
fn tally(traced: &[Traced], from: f64, to: f64) -> BTreeMap<&'static str, (u64, u64)> {
    let mut m: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    for t in traced.iter().filter(|t| t.at >= from && t.at < to) {
        let e = m.entry(t.dest).or_default();
        e.0 += t.bytes;
        e.1 += u64::from(t.fsync);
    }
    m
}

fn kb(b: f64) -> String {
    // + 0.0: an empty sum is -0.0.
    format!("{:.1} kB", b / 1000.0 + 0.0)
}

/// Least squares y = a + b x; (a, b).
fn line(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - b * mx, b)
}

/// The seconds on air of each broadcast: relay-on to relay-off, less the
/// warm-up (3 s) and the hold (2 s), from the sim-file.
fn air_seconds(sim: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(sim).unwrap_or_default();
    let mut on: Option<Timestamp> = None;
    let mut out = Vec::new();
    for l in text.lines() {
        let Some((t, level)) = l.split_once(' ') else {
            continue;
        };
        let Ok(t) = t.parse::<Timestamp>() else {
            continue;
        };
        match level {
            "on" => on = Some(t),
            "off" => {
                if let Some(o) = on.take() {
                    out.push((t - o).as_secs_f64() - 5.0);
                }
            }
            _ => {}
        }
    }
    out
}

fn report(windows: &[Window], traced: &[Traced], sim: &Path, quick: bool) {
    println!();
    println!(
        "what loa wrote, by window (write/pwrite64/writev bytes; fsyncs in brackets; card: the loop device)"
    );
    let mut idle_s = 0.0;
    let mut idle: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut idle_dev = 0u64;
    let airs = air_seconds(sim);
    // Per broadcast: items, seconds aired, bytes to files other than the
    // archive, to the archive, to the log; the card's bytes.
    let mut bc: Vec<(f64, f64, f64, f64, f64, Option<u64>)> = Vec::new();
    for w in windows {
        let m = tally(traced, w.from, w.to);
        let card = w.device.map_or("-".to_string(), |d| kb(d as f64));
        println!("  {:<12} {:>6.0} s  card {card}", w.name, w.to - w.from);
        for (dest, (bytes, syncs)) in &m {
            println!("      {dest:<38} {:>10} [{syncs}]", kb(*bytes as f64));
        }
        let no_log: u64 = m.iter().filter(|(d, _)| on_card(d)).map(|(_, v)| v.0).sum();
        if w.name == "idle" {
            idle_s += w.to - w.from;
            idle_dev += w.device.unwrap_or(0);
            for (dest, (bytes, _)) in &m {
                *idle.entry(dest).or_default() += bytes;
            }
        } else if let Some(n) = w.name.strip_prefix("broadcast ") {
            let i: usize = n.parse().unwrap();
            let items = BROADCASTS[i - 1].len() as f64;
            let archive = m.get("archive (state/archive)").map_or(0, |v| v.0) as f64;
            let log = m.get("log (stderr: journald)").map_or(0, |v| v.0) as f64;
            let air = airs.get(i - 1).copied().unwrap_or(f64::NAN);
            bc.push((items, air, no_log as f64 - archive, archive, log, w.device));
        }
    }
    println!();
    let per_hour = |b: u64| b as f64 * 3600.0 / idle_s.max(1.0);
    println!("idle: {idle_s:.0} s measured");
    for (dest, b) in &idle {
        println!("  {dest:<38} {:>10} per hour", kb(per_hour(*b)));
    }
    if idle_dev > 0 {
        println!(
            "  {:<38} {:>10} per hour",
            "card (loop device)",
            kb(per_hour(idle_dev))
        );
    }
    if quick || bc.len() < 2 {
        println!("\nQUICK smoke run: no day's figures");
        return;
    }
    let (a, b) = line(&bc.iter().map(|p| (p.0, p.2)).collect::<Vec<_>>());
    let air: f64 = bc.iter().map(|p| p.1).sum();
    let archive_rate = bc.iter().map(|p| p.3).sum::<f64>() / air;
    println!();
    println!(
        "broadcasts: database and other files (not the archive) = {} + {} per item; archive {} per second aired ({:.0} s aired)",
        kb(a),
        kb(b),
        kb(archive_rate),
        air
    );
    let idle_no_log: f64 = idle
        .iter()
        .filter(|(d, _)| on_card(d))
        .map(|(_, b)| per_hour(*b))
        .sum();
    let db_day = DAY_BROADCASTS * a + DAY_ITEMS * b;
    let archive_day = archive_rate * DAY_AIR_S;
    let idle_day = idle_no_log * DAY_IDLE_H;
    println!(
        "a typical day ({DAY_BROADCASTS} broadcasts, {DAY_ITEMS} items, {} min on air, {DAY_IDLE_H} h idle), what loa writes:",
        DAY_AIR_S / 60.0
    );
    println!("  database and other files  {:>10}", kb(db_day));
    println!("  archive                   {:>10}", kb(archive_day));
    println!("  idle                      {:>10}", kb(idle_day));
    println!(
        "  total                     {:>10}",
        kb(db_day + archive_day + idle_day)
    );
    let (la, lb) = line(&bc.iter().map(|p| (p.0, p.4)).collect::<Vec<_>>());
    let log_idle = idle.get("log (stderr: journald)").copied().unwrap_or(0);
    let log_day = DAY_BROADCASTS * la + DAY_ITEMS * lb + per_hour(log_idle) * DAY_IDLE_H;
    println!(
        "  the log (stderr at info, as the unit sets; journald stores it): {} ({} + {} per item per broadcast)",
        kb(log_day),
        kb(la),
        kb(lb)
    );
    let devs: Vec<u64> = bc.iter().filter_map(|p| p.5).collect();
    if devs.len() == bc.len() {
        // The card's own bytes over what loa wrote, in the broadcasts:
        // the journal, metadata and the mmapped WAL index.
        let app: f64 = bc.iter().map(|p| p.2 + p.3).sum();
        let ratio = devs.iter().sum::<u64>() as f64 / app;
        let card_day = (db_day + archive_day) * ratio + per_hour(idle_dev) * DAY_IDLE_H;
        println!(
            "  on the card (ext4 journal, metadata, WAL index included; x{ratio:.2} in the broadcasts): {}",
            kb(card_day)
        );
    }
}
