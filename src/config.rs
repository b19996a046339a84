//! The configuration file (config/loa.toml): where it is found, its keys and
//! defaults, and the validated [`Config`] the rest of loa reads. Parsing is in
//! two stages: the TOML tree is walked key by key (unknown keys and wrong types
//! are located problems), then each value is checked for sense. It must not do
//! anything with the hardware or the playlists.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use toml::de::{DeTable, DeValue};

use crate::duration;
use crate::lang::Lang;
use crate::problem::Problem;
use crate::tomlfile::{Source, Value, Walk, nearest};
use crate::tr;

pub mod district;
pub mod tts;
pub mod zone;
pub use zone::Zone;

/// Where loa looks for its config when neither `--config` nor `$LOA_CONFIG`
/// names one, in order.
pub const SYSTEM_CONFIG: &str = "/etc/loa/loa.toml";
/// The second place, relative to the working folder: a source checkout's
/// config.
pub const LOCAL_CONFIG: &str = "config/loa.toml";

/// Which relay driver switches the amplifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayBackend {
    /// The Linux GPIO character device (any board, the Pi 5 included).
    Gpio,
    /// The rppal crate, for Raspberry Pi users who want it.
    Rppal,
    /// No hardware: edges are logged (and written to `sim-file`).
    Sim,
}

impl RelayBackend {
    /// The backend's name as written in `[relay] backend`.
    pub fn name(self) -> &'static str {
        match self {
            RelayBackend::Gpio => "gpio",
            RelayBackend::Rppal => "rppal",
            RelayBackend::Sim => "sim",
        }
    }
}

/// The GPIO line driving the relay: by offset on the chip, or by its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineSpec {
    /// The line's offset on the chip (`line = 17`, or a quoted number).
    Offset(u32),
    /// The line's name (`line = "GPIO17"`), looked up on the chip, then on
    /// every chip.
    Name(String),
}

/// `[paths]`: the folders loa reads and writes, absolute once validated.
#[derive(Clone, Debug)]
pub struct Paths {
    /// The audio library; playlist items are relative to it.
    pub audio: PathBuf,
    /// default.toml and the dated YYYY-MM-DD.toml files.
    pub playlists: PathBuf,
    /// The as-run log, the media index and the control socket.
    pub state: PathBuf,
}

/// `[relay]`: the relay that switches the amplifier, and its safety times.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Which driver switches it.
    pub backend: RelayBackend,
    /// The GPIO chip, by name ("gpiochip0") or device path.
    pub chip: String,
    /// The GPIO line on that chip.
    pub line: LineSpec,
    /// For relay modules that switch on when their input is low.
    pub active_low: bool,
    /// Time the amplifier needs after power-on before the first item.
    pub warm_up: Duration,
    /// Time the relay stays on after the last item, so the tail is not cut.
    pub hold: Duration,
    /// The most the relay may stay on in one go; a watchdog enforces it.
    pub max_on: Duration,
    /// Where the sim backend appends one line per edge.
    pub sim_file: Option<PathBuf>,
}

/// `[audio]`: the sound device and how items are played on it.
#[derive(Clone, Debug)]
pub struct AudioConfig {
    /// The ALSA device name ("default", or one that `loa devices` lists).
    pub device: String,
    /// Gain added to every item, in dB (-60 to 20).
    pub volume_db: f64,
    /// Whether items are normalised to `target_lufs` by their measured
    /// loudness.
    pub normalize: bool,
    /// The loudness items are normalised to, in LUFS (-40 to -5).
    pub target_lufs: f64,
    /// Silence between two items of a broadcast.
    pub gap: Duration,
    /// Fade in and out of every item.
    pub fade: Duration,
}

/// `[control]`: the control socket.
#[derive(Clone, Debug)]
pub struct ControlConfig {
    /// The control socket (`loa status`, `loa now`...): STATE/loa.sock unless
    /// `[control] socket` says otherwise.
    pub socket: PathBuf,
}

/// `[schedule]`: how strict the daemon is about time.
#[derive(Clone, Debug)]
pub struct ScheduleConfig {
    /// How late a broadcast may still start after a restart.
    pub late_grace: Duration,
    /// Air nothing while the clock is not known to be right.
    pub require_clock_sync: bool,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from ("" for built-in defaults).
    pub path: PathBuf,
    /// The IANA time zone name as written ("Asia/Ho_Chi_Minh" by default).
    pub timezone_name: String,
    /// The time zone it names: playlist times are local times in it.
    pub tz: TimeZone,
    /// The operator's language, for every message and log line.
    pub lang: Lang,
    /// `[paths]`.
    pub paths: Paths,
    /// `[relay]`.
    pub relay: RelayConfig,
    /// `[audio]`.
    pub audio: AudioConfig,
    /// `[schedule]`.
    pub schedule: ScheduleConfig,
    /// `[control]`.
    pub control: ControlConfig,
    /// `[ingest]`.
    pub ingest: IngestConfig,
    /// `[archive]`.
    pub archive: ArchiveConfig,
    /// `[station]`: who the report comes from and who signs it, and which
    /// files are jingles.
    pub station: crate::report::Station,
    /// `[[zone]]`: the hamlets' speaker lines, each on a relay of its own
    /// (empty: one amplifier and no zones, as before zones existed).
    pub zones: Vec<Zone>,
    /// `[district]`: the link to the district's broker (None: no link).
    pub district: Option<district::DistrictConfig>,
    /// `[tts]`: how text is read aloud.
    pub tts: tts::TtsConfig,
}

/// `[archive]`: the recording of every broadcast, exactly as it went to the
/// sound card (src/archive).
#[derive(Clone, Debug)]
pub struct ArchiveConfig {
    /// Whether broadcasts are recorded at all.
    pub enabled: bool,
    /// Where the recordings go (absolute once validated; by default
    /// STATE/archive).
    pub folder: PathBuf,
    /// The MP3's constant bitrate, in kbit/s (mono): 32 carries speech
    /// through horn loudspeakers with room to spare.
    pub bitrate_kbps: u32,
    /// Recordings older than this are deleted at local midnight.
    pub keep: Duration,
}

/// The bitrates `[archive] bitrate-kbps` may take: MP3's own, from 16
/// (still intelligible speech) up.
pub const ARCHIVE_BITRATES: &[u32] = &[16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128];

/// `[ingest]`: how uploads to the audio folder are taken up.
#[derive(Clone, Debug)]
pub struct IngestConfig {
    /// Below this much free space (bytes) on the audio or state filesystem,
    /// uploads are not taken up, so the as-run log always has room.
    pub min_free: u64,
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No config file anywhere loa looks.
    #[error("no config file found (looked at {})", looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotFound {
        /// The places looked at, in order.
        looked: Vec<PathBuf>,
    },
    /// The file cannot be read or is not TOML: nothing in it can be trusted.
    #[error("{0}")]
    Unreadable(Problem),
    /// The file was read but some values are wrong. `config` holds the
    /// defaults in their place, so that `loa check` can go on checking.
    #[error("{} problem(s) in the config", problems.len())]
    Invalid {
        /// The config as read, with the defaults where a value was wrong.
        config: Box<Config>,
        /// What is wrong, located in the file.
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The located problems to show the operator.
    pub fn problems(&self, lang: Lang) -> Vec<Problem> {
        match self {
            ConfigError::NotFound { looked } => {
                let list = looked
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let first = looked.first().cloned().unwrap_or_default();
                // The config names the language, so without one both are given.
                let _ = lang;
                vec![Problem::error(
                    &first,
                    0,
                    0,
                    format!(
                        "Không tìm thấy tệp cấu hình (đã tìm: {list}); hãy chỉ rõ tệp bằng --config ĐƯỜNG-DẪN hoặc biến LOA_CONFIG — no config file found (looked at: {list}); name one with --config PATH or the LOA_CONFIG variable"
                    ),
                )]
            }
            ConfigError::Unreadable(p) => vec![p.clone()],
            ConfigError::Invalid { problems, .. } => problems.clone(),
        }
    }
}

/// Finds the config file: `--config`, else `$LOA_CONFIG`, else
/// /etc/loa/loa.toml, else ./config/loa.toml.
pub fn locate(cli: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(p) = cli {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("LOA_CONFIG").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let candidates = [PathBuf::from(SYSTEM_CONFIG), PathBuf::from(LOCAL_CONFIG)];
    for c in &candidates {
        if c.exists() {
            return Ok(c.clone());
        }
    }
    Err(ConfigError::NotFound {
        looked: candidates.to_vec(),
    })
}

/// Guesses the language of a config before it is validated, so that the
/// messages about the config itself are already in the operator's language.
pub fn sniff_language(text: &str) -> Lang {
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("language") {
            let v = rest.trim_start().trim_start_matches('=').trim();
            let v = v.split('#').next().unwrap_or("").trim().trim_matches('"');
            if let Some(l) = Lang::parse(v) {
                return l;
            }
        }
        if line.starts_with('[') {
            break;
        }
    }
    Lang::Vi
}

impl Config {
    /// The defaults, with relative paths resolved against `dir`.
    pub fn defaults(dir: &Path) -> Config {
        Config {
            path: PathBuf::new(),
            timezone_name: "Asia/Ho_Chi_Minh".into(),
            tz: TimeZone::get("Asia/Ho_Chi_Minh")
                .unwrap_or(TimeZone::fixed(jiff::tz::Offset::constant(7))),
            lang: Lang::Vi,
            paths: Paths {
                audio: dir.join("audio"),
                playlists: dir.join("playlists"),
                state: dir.join("state"),
            },
            relay: RelayConfig {
                backend: RelayBackend::Sim,
                chip: "gpiochip0".into(),
                line: LineSpec::Offset(17),
                active_low: false,
                warm_up: Duration::from_secs(3),
                hold: Duration::from_secs(2),
                max_on: Duration::from_secs(90 * 60),
                sim_file: None,
            },
            audio: AudioConfig {
                device: "default".into(),
                volume_db: 0.0,
                normalize: true,
                target_lufs: -16.0,
                gap: Duration::from_secs(2),
                fade: Duration::from_millis(20),
            },
            schedule: ScheduleConfig {
                late_grace: Duration::from_secs(600),
                require_clock_sync: true,
            },
            control: ControlConfig {
                socket: dir.join("state").join("loa.sock"),
            },
            ingest: IngestConfig {
                min_free: 200 * 1_000_000,
            },
            archive: ArchiveConfig {
                enabled: true,
                folder: dir.join("state").join("archive"),
                bitrate_kbps: 32,
                keep: Duration::from_secs(180 * 86_400),
            },
            station: crate::report::Station {
                jingles: DEFAULT_JINGLES.iter().map(|s| s.to_string()).collect(),
                ..crate::report::Station::default()
            },
            zones: Vec::new(),
            district: None,
            tts: tts::TtsConfig::defaults(),
        }
    }

    /// Reads and validates the config at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        if !path.exists() {
            return Err(ConfigError::NotFound {
                looked: vec![path.to_path_buf()],
            });
        }
        // Read once, bounded (a FIFO or /dev/zero named as the config must
        // not hang loa): the language first, then the rest.
        let lang_guess = crate::tomlfile::read_bounded(path, Lang::Vi)
            .ok()
            .map(|b| sniff_language(&String::from_utf8_lossy(&b)))
            .unwrap_or_default();
        let src = Source::read(path, lang_guess).map_err(ConfigError::Unreadable)?;
        Config::from_source(&src, lang_guess)
    }

    /// Validates config text already read (used by `load` and by tests).
    pub fn from_source(src: &Source, lang_guess: Lang) -> Result<Config, ConfigError> {
        let doc = src.parse(lang_guess).map_err(ConfigError::Unreadable)?;
        let dir = src
            .path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut cfg = Config::defaults(&dir);
        cfg.path = src.path.clone();
        // The language first: it decides how every other message reads.
        let mut lang = lang_guess;
        if let Some(v) = doc.get_ref().get("language")
            && let DeValue::String(s) = v.get_ref()
            && let Some(l) = Lang::parse(s)
        {
            lang = l;
        }
        cfg.lang = lang;
        let mut w = Walk::new(src, lang);
        // Every path absolute, once: the service compares the paths the
        // folder watcher reports with these, and its working folder may
        // not be the one `--config config/loa.toml` was relative to.
        let dir = absolute(&dir);
        read_top(&mut w, doc.get_ref(), &mut cfg, &dir);
        cfg.path = absolute(&cfg.path);
        for p in [
            &mut cfg.paths.audio,
            &mut cfg.paths.playlists,
            &mut cfg.paths.state,
            &mut cfg.control.socket,
            &mut cfg.archive.folder,
        ] {
            *p = absolute(p);
        }
        if let Some(f) = &mut cfg.relay.sim_file {
            *f = absolute(f);
        }
        if w.problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError::Invalid {
                config: Box::new(cfg),
                problems: w.problems,
            })
        }
    }
}

const TOP_KEYS: &[&str] = &[
    "timezone", "language", "paths", "relay", "audio", "schedule", "control", "ingest", "archive",
    "station", "zone", "district", "tts",
];
const STATION_KEYS: &[&str] = &["name", "commune", "province", "reporter", "head", "jingles"];
/// `[station] jingles` when the config does not say: a file or folder
/// named "nhac-hieu" (nhạc hiệu, the station's jingle), at the top of the
/// audio folder or one folder down.
pub const DEFAULT_JINGLES: &[&str] = &["nhac-hieu*", "*/nhac-hieu*", "nhac-hieu/*"];
const ARCHIVE_KEYS: &[&str] = &["enabled", "folder", "bitrate-kbps", "keep"];
const CONTROL_KEYS: &[&str] = &["socket"];
const INGEST_KEYS: &[&str] = &["min-free-mb"];
const PATHS_KEYS: &[&str] = &["audio", "playlists", "state"];
const RELAY_KEYS: &[&str] = &[
    "backend",
    "chip",
    "line",
    "active-low",
    "warm-up",
    "hold",
    "max-on",
    "sim-file",
];
const AUDIO_KEYS: &[&str] = &[
    "device",
    "volume-db",
    "normalize",
    "target-lufs",
    "gap",
    "fade",
];
const SCHEDULE_KEYS: &[&str] = &["late-grace", "require-clock-sync"];

fn read_top(w: &mut Walk<'_>, t: &DeTable<'_>, cfg: &mut Config, dir: &Path) {
    let lang = w.lang;
    w.unknown_keys(
        t,
        TOP_KEYS,
        lang.pick("phần đầu tệp cấu hình", "the top of the config"),
    );
    if let Some(v) = t.get("timezone") {
        read_timezone(w, v, cfg);
    }
    if let Some(v) = t.get("language")
        && let Some(s) = w.string("language", v, "language = \"vi\"")
        && Lang::parse(&s).is_none()
    {
        w.error(
            &v.span(),
            tr!(
                lang,
                "Ngôn ngữ \"{s}\" không được hỗ trợ; hãy ghi \"vi\" (tiếng Việt) hoặc \"en\" (tiếng Anh).",
                "language \"{s}\" is not supported; write \"vi\" (Vietnamese) or \"en\" (English)"
            ),
        );
    }
    if let Some(v) = t.get("paths")
        && let Some(pt) = w.table("paths", v, "[paths]")
    {
        read_paths(w, pt, cfg, dir);
    }
    if let Some(v) = t.get("relay")
        && let Some(rt) = w.table("relay", v, "[relay]")
    {
        read_relay(w, rt, &mut cfg.relay, dir);
    }
    if let Some(v) = t.get("zone") {
        cfg.zones = zone::read_zones(w, v, &cfg.relay);
    }
    if let Some(v) = t.get("district")
        && let Some(dt) = w.table("district", v, "[district]")
    {
        cfg.district = district::read_district(w, dt, &v.span(), dir);
    }
    if let Some(v) = t.get("tts")
        && let Some(tt) = w.table("tts", v, "[tts]")
    {
        tts::read_tts(w, tt, &mut cfg.tts, dir);
    }
    if let Some(v) = t.get("audio")
        && let Some(at) = w.table("audio", v, "[audio]")
    {
        read_audio(w, at, &mut cfg.audio);
    }
    // The socket follows the state folder unless set on its own.
    cfg.control.socket = cfg.paths.state.join("loa.sock");
    if let Some(v) = t.get("ingest")
        && let Some(it) = w.table("ingest", v, "[ingest]")
    {
        read_ingest(w, it, cfg);
    }
    if let Some(v) = t.get("control")
        && let Some(ct) = w.table("control", v, "[control]")
    {
        w.unknown_keys(ct, CONTROL_KEYS, "[control]");
        if let Some(v) = ct.get("socket")
            && let Some(p) = path_value(w, "socket", v, dir)
        {
            cfg.control.socket = p;
        }
    }
    if let Some(v) = t.get("schedule")
        && let Some(st) = w.table("schedule", v, "[schedule]")
    {
        read_schedule(w, st, cfg);
    }
    // The archive follows the state folder unless set on its own.
    cfg.archive.folder = cfg.paths.state.join("archive");
    if let Some(v) = t.get("archive")
        && let Some(at) = w.table("archive", v, "[archive]")
    {
        read_archive(w, at, cfg);
    }
    if let Some(v) = t.get("station")
        && let Some(st) = w.table("station", v, "[station]")
    {
        read_station(w, st, &mut cfg.station);
    }
}

/// [station]: the report's names (each optional) and the jingles' patterns.
fn read_station(w: &mut Walk<'_>, st: &DeTable<'_>, s: &mut crate::report::Station) {
    w.unknown_keys(st, STATION_KEYS, "[station]");
    s.declared = true;
    let text = |w: &mut Walk<'_>, key: &str, example: &str| {
        st.get(key)
            .and_then(|v| w.string(key, v, example))
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
    };
    s.name = text(w, "name", "name = \"Đài truyền thanh xã An Bình\"");
    s.commune = text(w, "commune", "commune = \"Xã An Bình\"");
    s.province = text(w, "province", "province = \"Tỉnh Quảng Trị\"");
    s.reporter = text(w, "reporter", "reporter = \"Nguyễn Thị Hoa\"");
    s.head = text(w, "head", "head = \"Trần Văn Nam\"");
    if let Some(v) = st.get("jingles")
        && let Some(items) = w.array("jingles", v, "jingles = [\"nhac-hieu.mp3\"]")
    {
        s.jingles = items
            .iter()
            .filter_map(|i| w.string("jingles", i, "jingles = [\"nhac-hieu.mp3\"]"))
            .collect();
    }
}

/// [archive]: whether broadcasts are recorded, where, at what bitrate, and
/// for how long they are kept.
fn read_archive(w: &mut Walk<'_>, at: &DeTable<'_>, cfg: &mut Config) {
    w.unknown_keys(at, ARCHIVE_KEYS, "[archive]");
    let lang = w.lang;
    if let Some(v) = at.get("enabled")
        && let Some(b) = w.boolean("enabled", v)
    {
        cfg.archive.enabled = b;
    }
    if let Some(v) = at.get("folder")
        && let Some(p) = path_value(w, "folder", v, &cfg.paths.state.clone())
    {
        cfg.archive.folder = p;
    }
    if let Some(v) = at.get("bitrate-kbps")
        && let Some(n) = w.integer("bitrate-kbps", v, "bitrate-kbps = 32")
    {
        match u32::try_from(n)
            .ok()
            .filter(|n| ARCHIVE_BITRATES.contains(n))
        {
            Some(n) => cfg.archive.bitrate_kbps = n,
            None => {
                let list = ARCHIVE_BITRATES
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                w.error(
                    &v.span(),
                    tr!(
                        lang,
                        "`bitrate-kbps` = {n} không phải là tốc độ bit MP3 dùng được; hãy chọn một trong: {list} (32 là đủ cho tiếng nói qua loa nén).",
                        "`bitrate-kbps` = {n} is not a usable MP3 bitrate; choose one of {list} (32 is plenty for speech through horn loudspeakers)"
                    ),
                );
            }
        }
    }
    if let Some(v) = at.get("keep")
        && let Some(text) = w.string("keep", v, "keep = \"180d\"")
    {
        match parse_keep(&text) {
            Some(d) if d >= KEEP_MIN && d <= KEEP_MAX => cfg.archive.keep = d,
            _ => w.error(
                &v.span(),
                tr!(
                    lang,
                    "`keep` = \"{text}\" không phải là thời gian lưu hợp lệ; hãy ghi số ngày liền với chữ d, từ \"1d\" đến \"3650d\", ví dụ \"180d\" (hoặc giờ, ví dụ \"36h\"). Bản ghi cũ hơn sẽ bị xóa lúc nửa đêm.",
                    "`keep` = \"{text}\" is not a valid keeping time; write a number of days followed by d, from \"1d\" to \"3650d\", for example \"180d\" (or hours, such as \"36h\"); older recordings are deleted at midnight"
                ),
            ),
        }
    }
}

/// The shortest `[archive] keep`: a day.
const KEEP_MIN: Duration = Duration::from_secs(86_400);
/// The longest `[archive] keep`: ten years.
const KEEP_MAX: Duration = Duration::from_secs(3650 * 86_400);

/// `keep`: "180d" (days), or any length `duration::parse` takes ("36h").
pub fn parse_keep(text: &str) -> Option<Duration> {
    let t = text.trim();
    if let Some(days) = t.strip_suffix('d')
        && !days.is_empty()
        && days.bytes().all(|b| b.is_ascii_digit())
    {
        let n: u64 = days.parse().ok()?;
        return n.checked_mul(86_400).map(Duration::from_secs);
    }
    duration::parse(t)
}

/// `timezone`: an IANA name; a wrong one gets the nearest real name.
fn read_timezone(w: &mut Walk<'_>, v: &Value<'_>, cfg: &mut Config) {
    let lang = w.lang;
    let Some(name) = w.string("timezone", v, "timezone = \"Asia/Ho_Chi_Minh\"") else {
        return;
    };
    if let Ok(tz) = TimeZone::get(&name) {
        cfg.tz = tz;
        cfg.timezone_name = name;
        return;
    }
    let names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
    // An empty name is near every short one ("GB"): suggest Vietnam's then.
    let hint = if name.trim().len() < 3 {
        "Asia/Ho_Chi_Minh".to_string()
    } else {
        nearest(&name, names.iter().map(|s| s.as_str()))
            .unwrap_or("Asia/Ho_Chi_Minh")
            .to_string()
    };
    w.error(
        &v.span(),
        tr!(
            lang,
            "Múi giờ \"{name}\" không tồn tại; hãy dùng tên múi giờ IANA, ví dụ \"{hint}\" (giờ Việt Nam là \"Asia/Ho_Chi_Minh\").",
            "unknown time zone \"{name}\"; use an IANA name such as \"{hint}\" (Vietnam is \"Asia/Ho_Chi_Minh\")"
        ),
    );
}

/// [paths]: the audio, playlists and state folders.
fn read_paths(w: &mut Walk<'_>, pt: &DeTable<'_>, cfg: &mut Config, dir: &Path) {
    w.unknown_keys(pt, PATHS_KEYS, "[paths]");
    for (key, slot) in [
        ("audio", &mut cfg.paths.audio),
        ("playlists", &mut cfg.paths.playlists),
        ("state", &mut cfg.paths.state),
    ] {
        if let Some(v) = pt.get(key)
            && let Some(p) = path_value(w, key, v, dir)
        {
            *slot = p;
        }
    }
}

/// [ingest]: the free space kept on the card.
fn read_ingest(w: &mut Walk<'_>, it: &DeTable<'_>, cfg: &mut Config) {
    w.unknown_keys(it, INGEST_KEYS, "[ingest]");
    let Some(v) = it.get("min-free-mb") else {
        return;
    };
    let Some(n) = w.integer("min-free-mb", v, "min-free-mb = 200") else {
        return;
    };
    if (0..=1_000_000).contains(&n) {
        cfg.ingest.min_free = n as u64 * 1_000_000;
    } else {
        let lang = w.lang;
        let n = w.src.text.get(v.span()).unwrap_or("").trim().to_string();
        w.error(
            &v.span(),
            tr!(
                lang,
                "`min-free-mb` = {n} nằm ngoài khoảng cho phép (từ 0 đến 1000000).",
                "`min-free-mb` = {n} is out of range: it must be from 0 to 1000000"
            ),
        );
    }
}

/// [schedule]: the late grace, and whether the clock must be synchronised.
fn read_schedule(w: &mut Walk<'_>, st: &DeTable<'_>, cfg: &mut Config) {
    w.unknown_keys(st, SCHEDULE_KEYS, "[schedule]");
    if let Some(d) = duration_key(
        w,
        st,
        "late-grace",
        Duration::ZERO,
        Duration::from_secs(6 * 3600),
    ) {
        cfg.schedule.late_grace = d;
    }
    if let Some(v) = st.get("require-clock-sync")
        && let Some(b) = w.boolean("require-clock-sync", v)
    {
        cfg.schedule.require_clock_sync = b;
    }
}

/// `p` as an absolute path without `.` or `..`: the real path when it
/// exists (links resolved, as the folder watcher reports them), else the
/// path made absolute against the current folder and tidied.
pub fn absolute(p: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(p) {
        return real;
    }
    // The nearest existing folder above it, resolved, then the rest.
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    if let Some(parent) = out.parent()
        && let (Ok(real), Some(name)) = (std::fs::canonicalize(parent), out.file_name())
    {
        return real.join(name);
    }
    out
}

fn path_value(w: &mut Walk<'_>, key: &str, v: &Value<'_>, dir: &Path) -> Option<PathBuf> {
    let s = w.string(key, v, &format!("{key} = \"/var/lib/loa/{key}\""))?;
    if s.trim().is_empty() {
        let lang = w.lang;
        w.error(
            &v.span(),
            tr!(
                lang,
                "`{key}` không được để trống.",
                "`{key}` must not be empty"
            ),
        );
        return None;
    }
    let p = PathBuf::from(s);
    Some(if p.is_absolute() { p } else { dir.join(p) })
}

/// Reads a duration key of `table`, checking it lies in [min, max].
fn duration_key(
    w: &mut Walk<'_>,
    table: &DeTable<'_>,
    key: &str,
    min: Duration,
    max: Duration,
) -> Option<Duration> {
    let v = table.get(key)?;
    let lang = w.lang;
    let text = w.string(key, v, &format!("{key} = \"3s\""))?;
    let Some(d) = duration::parse(&text) else {
        w.error(&v.span(), duration::error_message(key, &text, lang));
        return None;
    };
    if d < min || d > max {
        let (lo, hi) = (duration::to_config_text(min), duration::to_config_text(max));
        w.error(
            &v.span(),
            tr!(
                lang,
                "`{key}` = \"{text}\" nằm ngoài khoảng cho phép (từ \"{lo}\" đến \"{hi}\").",
                "`{key}` = \"{text}\" is out of range: it must be from \"{lo}\" to \"{hi}\""
            ),
        );
        return None;
    }
    Some(d)
}

fn number_key(
    w: &mut Walk<'_>,
    table: &DeTable<'_>,
    key: &str,
    min: f64,
    max: f64,
    example: &str,
) -> Option<f64> {
    let v = table.get(key)?;
    let x = w.number(key, v, example)?;
    if x < min || x > max {
        let lang = w.lang;
        w.error(
            &v.span(),
            tr!(
                lang,
                "`{key}` = {x} nằm ngoài khoảng cho phép (từ {min} đến {max}).",
                "`{key}` = {x} is out of range: it must be from {min} to {max}"
            ),
        );
        return None;
    }
    Some(x)
}

fn read_relay(w: &mut Walk<'_>, t: &DeTable<'_>, r: &mut RelayConfig, dir: &Path) {
    let lang = w.lang;
    w.unknown_keys(t, RELAY_KEYS, "[relay]");
    if let Some(v) = t.get("backend")
        && let Some(s) = w.string("backend", v, "backend = \"gpio\"")
    {
        match s.as_str() {
                "gpio" => r.backend = RelayBackend::Gpio,
                "rppal" => r.backend = RelayBackend::Rppal,
                "sim" => r.backend = RelayBackend::Sim,
                _ => w.error(
                    &v.span(),
                    tr!(
                        lang,
                        "Không có kiểu rơ-le \"{s}\"; hãy chọn \"gpio\" (mọi bo mạch, kể cả Pi 5), \"rppal\" (Raspberry Pi) hoặc \"sim\" (giả lập, không cần phần cứng).",
                        "no relay backend \"{s}\"; choose \"gpio\" (any board, Pi 5 included), \"rppal\" (Raspberry Pi) or \"sim\" (simulated, no hardware)"
                    ),
                ),
            }
    }
    if let Some(v) = t.get("chip")
        && let Some(s) = w.string("chip", v, "chip = \"gpiochip0\"")
    {
        if s.trim().is_empty() {
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "`chip` không được để trống.",
                    "`chip` must not be empty"
                ),
            );
        } else {
            r.chip = s;
        }
    }
    if let Some(v) = t.get("line")
        && let Some(l) = line_value(w, v)
    {
        r.line = l;
    }
    if let Some(v) = t.get("active-low")
        && let Some(b) = w.boolean("active-low", v)
    {
        r.active_low = b;
    }
    if let Some(d) = duration_key(w, t, "warm-up", Duration::ZERO, Duration::from_secs(60)) {
        r.warm_up = d;
    }
    if let Some(d) = duration_key(w, t, "hold", Duration::ZERO, Duration::from_secs(600)) {
        r.hold = d;
    }
    if let Some(d) = duration_key(
        w,
        t,
        "max-on",
        Duration::from_secs(60),
        Duration::from_secs(24 * 3600),
    ) {
        r.max_on = d;
    }
    if let Some(v) = t.get("sim-file")
        && let Some(p) = path_value(w, "sim-file", v, dir)
    {
        r.sim_file = Some(p);
    }
}

/// A GPIO line: an offset (`line = 17`) or a name (`line = "GPIO17"`).
fn line_value(w: &mut Walk<'_>, v: &Value<'_>) -> Option<LineSpec> {
    let lang = w.lang;
    match v.get_ref() {
        DeValue::Integer(_) => {
            let n = w.integer("line", v, "line = 17")?;
            if (0..=9999).contains(&n) {
                return Some(LineSpec::Offset(n as u32));
            }
            let n = w.src.text.get(v.span()).unwrap_or("").trim().to_string();
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "Số chân GPIO {n} không hợp lệ; hãy ghi số thứ tự chân (ví dụ 17) hoặc tên chân (ví dụ \"GPIO17\").",
                    "GPIO line {n} is not valid; give the line offset (e.g. 17) or its name (e.g. \"GPIO17\")"
                ),
            );
            None
        }
        DeValue::String(s) if !s.trim().is_empty() => Some(match s.trim().parse::<u32>() {
            Ok(n) => LineSpec::Offset(n),
            Err(_) => LineSpec::Name(s.trim().to_string()),
        }),
        _ => {
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "`line` phải là số chân (ví dụ line = 17) hoặc tên chân trong ngoặc kép (ví dụ line = \"GPIO17\").",
                    "`line` must be a line offset (e.g. line = 17) or a quoted line name (e.g. line = \"GPIO17\")"
                ),
            );
            None
        }
    }
}

fn read_audio(w: &mut Walk<'_>, t: &DeTable<'_>, a: &mut AudioConfig) {
    let lang = w.lang;
    w.unknown_keys(t, AUDIO_KEYS, "[audio]");
    if let Some(v) = t.get("device")
        && let Some(s) = w.string("device", v, "device = \"default\"")
    {
        if s.trim().is_empty() {
            w.error(
                    &v.span(),
                    tr!(
                        lang,
                        "`device` không được để trống; hãy dùng \"default\" hoặc một tên do lệnh `loa devices` liệt kê.",
                        "`device` must not be empty; use \"default\" or a name listed by `loa devices`"
                    ),
                );
        } else {
            a.device = s;
        }
    }
    if let Some(x) = number_key(w, t, "volume-db", -60.0, 20.0, "volume-db = -3.0") {
        a.volume_db = x;
    }
    if let Some(v) = t.get("normalize")
        && let Some(b) = w.boolean("normalize", v)
    {
        a.normalize = b;
    }
    if let Some(x) = number_key(w, t, "target-lufs", -40.0, -5.0, "target-lufs = -16.0") {
        a.target_lufs = x;
    }
    if let Some(d) = duration_key(w, t, "gap", Duration::ZERO, Duration::from_secs(600)) {
        a.gap = d;
    }
    if let Some(d) = duration_key(w, t, "fade", Duration::ZERO, Duration::from_secs(5)) {
        a.fade = d;
    }
}

#[cfg(test)]
mod tests;
