//! `loa demo`: the real service on the shipped samples, for one broadcast a
//! few seconds from now, then exit. It copies the first broadcast of the
//! day into a dated playlist in a temporary folder (with its own state and a
//! simulated relay), starts `loa run` on it as a child process, and follows it
//! through the control socket and the relay's sim-file, printing each step.
//! Without a sound card the sound goes to a WAV file instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::context;
use super::exit;
use crate::config::Config;
use crate::control::client;
use crate::control::protocol::Request;
use crate::duration;
use crate::lang::Lang;
use crate::playlist::{self, Broadcast};
use crate::schedule::clock::{Clock, SystemClock, kernel_clock_synced};
use crate::schedule::local_time;
use crate::tr;

/// How far ahead the demo broadcast starts.
const LEAD: Duration = Duration::from_secs(6);

/// `loa demo`: the real service on the shipped samples, relay simulated; the exit code.
pub fn run(config: Option<&Path>) -> i32 {
    let Some(cfg) = context::config_or_say(config) else {
        return exit::CONFIG;
    };
    let lang = cfg.lang;
    match demo(&cfg) {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "{}",
                tr!(lang, "loa demo: lỗi: {e}", "loa demo: error: {e}")
            );
            exit::PROBLEMS
        }
    }
}

fn say(line: String) {
    println!("{line}");
    let _ = std::io::stdout().flush();
}

/// The first broadcast airing today (else the first of default.toml).
fn pick_broadcast(cfg: &Config, today: jiff::civil::Date) -> Option<Broadcast> {
    let set = playlist::load_dir(&cfg.paths.playlists, cfg.lang);
    let from_today = set
        .for_date(today)
        .playlist()
        .and_then(|p| p.broadcasts.iter().find(|b| b.airs_on(today)).cloned());
    from_today.or_else(|| {
        set.default
            .as_ref()
            .or_else(|| set.dated.values().next())
            .and_then(|p| p.broadcasts.first().cloned())
    })
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The demo from start to end: the temporary folder set up, the service
/// started on it, its steps followed, then stopped; the as-run log and
/// where the sound went said last. The exit code is the broadcast's:
/// `follow`'s.
fn demo(cfg: &Config) -> Result<i32, String> {
    let lang = cfg.lang;
    let now = SystemClock.now();
    let today = cfg.tz.to_offset(now).to_datetime(now).date();
    let Some(b) = pick_broadcast(cfg, today) else {
        return Err(tr!(
            lang,
            "danh sách phát mẫu không có buổi phát nào",
            "the sample playlists have no broadcast"
        ));
    };
    let dir = demo_folder(cfg).map_err(|e| e.to_string())?;

    // The broadcast, LEAD + warm-up from now.
    let start = now
        .checked_add(jiff::SignedDuration::try_from(LEAD + cfg.relay.warm_up).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let at = local_time(start, &cfg.tz);
    let title = b.title.clone().unwrap_or_else(|| "Demo".into());
    std::fs::write(
        dir.join(format!("playlists/{today}.toml")),
        playlist_text(&b, &title, &at),
    )
    .map_err(|e| e.to_string())?;

    let sound = Sound::set_up(cfg, &dir).map_err(|e| e.to_string())?;
    let sim_file = dir.join("relay.log");
    let config_path = dir.join("loa.toml");
    std::fs::write(&config_path, config_text(cfg, &dir, &sim_file, sound.card))
        .map_err(|e| e.to_string())?;

    say_intro(lang, &title, &at, b.items.len(), sound.card);
    let child = start_service(&config_path, &dir, sound.card)?;
    let result = follow(cfg, &config_path, &sim_file, lang);
    stop_service(child);
    say_as_run(cfg, &dir, today);
    sound.finish(&dir, lang);
    result
}

/// A folder of its own, kept afterwards so the WAV can be listened to,
/// with a copy of the samples: the service takes up what it finds in its
/// audio folder (group, mode) and keeps its status note there; the shipped
/// folder is left as it is.
fn demo_folder(cfg: &Config) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("loa-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["playlists", "state", "alsa-conf/alsa"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    copy_samples(&cfg.paths.audio, &dir.join("audio"))?;
    Ok(dir)
}

/// The dated playlist of the demo: the picked broadcast alone, at `at`.
fn playlist_text(b: &Broadcast, title: &str, at: &str) -> String {
    let items: Vec<String> = b
        .items
        .iter()
        .map(|i| {
            if i.repeat > 1 || i.volume_db != 0.0 {
                format!(
                    "{{ file = {}, repeat = {}, volume-db = {:.1} }}",
                    toml_str(&i.file),
                    i.repeat,
                    i.volume_db
                )
            } else {
                toml_str(&i.file)
            }
        })
        .collect();
    let tags = b
        .tags
        .iter()
        .map(|t| toml_str(t))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "# loa demo: {title}\n[[broadcast]]\nat = \"{at}\"\ntitle = {}\nitems = [{}]\ntags = [{tags}]\n",
        toml_str(title),
        items.join(", ")
    )
}

/// Where the demo's sound goes: the sound card, or without one a raw
/// capture turned into a WAV at the end.
struct Sound {
    /// Whether there is a usable sound card.
    card: bool,
    /// The raw capture (unused with a card).
    capture: PathBuf,
    /// Drains ALSA's named pipe into the capture at real time (no card).
    pacer: Option<crate::player::standin::PacedCapture>,
}

impl Sound {
    /// Finds out whether there is a card; without one, starts the pacer and
    /// writes the ALSA config that sends the sound to it.
    fn set_up(cfg: &Config, dir: &Path) -> std::io::Result<Sound> {
        let output = crate::player::output(cfg);
        let capture = dir.join("demo.raw");
        let card = crate::player::alsa::has_sound_card() && output.check().is_ok();
        // Without a card, ALSA writes into a named pipe that this process
        // drains at real time into the capture, so that the steps print as
        // they would on air (and the as-run times are those of a real card).
        let fifo = dir.join("card");
        let pacer = if card {
            None
        } else {
            crate::player::standin::PacedCapture::start(&fifo, &capture)
        };
        let target = match &pacer {
            Some(_) => fifo.display().to_string(),
            None => capture.display().to_string(),
        };
        std::fs::write(
            dir.join("alsa-conf/alsa/asoundrc"),
            format!(
                "pcm.!default {{\n  type plug\n  slave {{ pcm \"loa_demo\"; format S16_LE; rate 48000; channels 2 }}\n}}\npcm.loa_demo {{\n  type file\n  slave.pcm \"null\"\n  file {}\n  format \"raw\"\n}}\n",
                toml_str(&target)
            ),
        )?;
        Ok(Sound {
            card,
            capture,
            pacer,
        })
    }

    /// Stops the pacer; without a card, turns the capture into a WAV and
    /// says where it is.
    fn finish(self, dir: &Path, lang: Lang) {
        if let Some(p) = self.pacer {
            p.stop();
        }
        if self.card {
            return;
        }
        let wav = dir.join("demo.wav");
        match raw_to_wav(&self.capture, &wav) {
            Ok(secs) => say(tr!(
                lang,
                "Âm thanh đã phát ({} giây) được ghi vào {}.",
                "What was played ({} s) is in {}",
                lang.pick(format!("{secs:.1}").replace('.', ","), format!("{secs:.1}")),
                wav.display()
            )),
            Err(e) => say(format!("{e}")),
        }
    }
}

/// The demo service's config: the operator's timing and sound settings,
/// the demo folder's paths, a simulated relay writing to `sim_file`, and
/// no waiting for clock sync.
fn config_text(cfg: &Config, dir: &Path, sim_file: &Path, card: bool) -> String {
    format!(
        "timezone = {}\nlanguage = \"{}\"\n[paths]\naudio = {}\nplaylists = {}\nstate = {}\n[relay]\nbackend = \"sim\"\nsim-file = {}\nwarm-up = \"{}\"\nhold = \"{}\"\n[audio]\ndevice = {}\nvolume-db = {}\nnormalize = {}\ntarget-lufs = {}\ngap = \"{}\"\nfade = \"{}\"\n[schedule]\nrequire-clock-sync = false\n",
        toml_str(&cfg.timezone_name),
        cfg.lang.code(),
        toml_str(&dir.join("audio").display().to_string()),
        toml_str(&dir.join("playlists").display().to_string()),
        toml_str(&dir.join("state").display().to_string()),
        toml_str(&sim_file.display().to_string()),
        duration::to_config_text(cfg.relay.warm_up),
        duration::to_config_text(cfg.relay.hold),
        toml_str(if card { &cfg.audio.device } else { "default" }),
        cfg.audio.volume_db,
        cfg.audio.normalize,
        cfg.audio.target_lufs,
        duration::to_config_text(cfg.audio.gap),
        duration::to_config_text(cfg.audio.fade),
    )
}

/// What the demo does, and the notes about the sound card and the clock.
fn say_intro(lang: Lang, title: &str, at: &str, n: usize, card: bool) {
    say(tr!(
        lang,
        "loa demo: chạy dịch vụ thật với dữ liệu mẫu, ampli giả lập. Buổi phát \"{title}\" lúc {at} ({n} tệp).",
        "loa demo: the real service on the shipped samples, relay simulated. Broadcast \"{title}\" at {at} ({n} file(s))."
    ));
    if !card {
        say(tr!(
            lang,
            "Không có thiết bị âm thanh: âm thanh sẽ được ghi vào một tệp WAV thay vì phát ra loa.",
            "No audio device: the sound will be written to a WAV file instead of played."
        ));
    }
    if !kernel_clock_synced() {
        say(tr!(
            lang,
            "Lưu ý: đồng hồ của máy chưa được đồng bộ. Bản chạy thử vẫn phát (require-clock-sync = false), còn dịch vụ thật sẽ chờ đến khi có giờ đúng.",
            "Note: this machine's clock is not synchronised; the demo airs anyway (require-clock-sync = false), the real service would wait until it is."
        ));
    }
}

/// `loa run` on the demo config, as a child of this process; without a
/// card its ALSA config is the demo folder's.
fn start_service(config_path: &Path, dir: &Path, card: bool) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.arg("--config")
        .arg(config_path)
        .arg("run")
        .env(
            "LOA_LOG",
            std::env::var("LOA_LOG").unwrap_or_else(|_| "error".into()),
        )
        .stdin(Stdio::null());
    if !card {
        cmd.env("XDG_CONFIG_HOME", dir.join("alsa-conf"));
    }
    cmd.spawn().map_err(|e| e.to_string())
}

/// Stops the service: SIGTERM, up to 5 s to end, then killed.
fn stop_service(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let waited = Instant::now();
    while waited.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The demo's as-run log for today: a line per item, with the start of
/// its file's SHA-256.
fn say_as_run(cfg: &Config, dir: &Path, today: jiff::civil::Date) {
    say(String::new());
    say(cfg.lang.pick("Nhật ký phát:", "As-run log:").to_string());
    let asrun = match crate::asrun::AsRun::open(&dir.join("state")) {
        Ok(asrun) => asrun,
        Err(e) => return say(format!("  {e}")),
    };
    for r in asrun.rows(today, today).unwrap_or_default() {
        let rec = &r.record;
        let started = rec
            .started
            .map(|t| local_time(t, &cfg.tz))
            .unwrap_or_else(|| "--:--:--".into());
        let sha = rec
            .sha256
            .as_deref()
            .map(|s| &s[..s.len().min(12)])
            .unwrap_or("-");
        say(format!(
            "  {started}  {:<32} {:<12} sha256 {sha}…",
            rec.file,
            rec.status.label(cfg.lang)
        ));
    }
}

/// Copies the regular files and folders below `from` into `to`, each file
/// with its modification time (a file just written is taken for an upload
/// still in progress).
fn copy_samples(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_samples(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
            let modified = entry.metadata()?.modified()?;
            std::fs::File::options()
                .write(true)
                .open(&target)?
                .set_modified(modified)?;
        }
    }
    Ok(())
}

/// Prints the broadcast's steps as the service carries them out.
fn follow(cfg: &Config, config_path: &Path, sim_file: &Path, lang: Lang) -> Result<i32, String> {
    let demo_cfg = Config::load(config_path).map_err(|e| e.to_string())?;
    let socket: PathBuf = demo_cfg.control.socket.clone();
    let total: Duration = Duration::from_secs(600);
    let deadline = Instant::now() + LEAD + cfg.relay.warm_up + total;
    let mut relay_lines = 0usize;
    let mut last_item: Option<(usize, String)> = None;
    let mut last_progress = Instant::now();
    let mut saw_on = false;
    let mut waited_msg = false;
    while Instant::now() < deadline {
        // Relay edges, from the sim-file.
        let lines: Vec<String> = std::fs::read_to_string(sim_file)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        for l in lines.iter().skip(relay_lines) {
            let (ts, state) = l.split_once(' ').unwrap_or((l.as_str(), ""));
            let when = ts.get(11..23).unwrap_or(ts);
            match state {
                "on" => {
                    saw_on = true;
                    say(tr!(
                        lang,
                        "{when}  BẬT AMPLI (giả lập)",
                        "{when}  RELAY ON (simulated)"
                    ));
                }
                "off" if saw_on => say(tr!(lang, "{when}  TẮT AMPLI", "{when}  RELAY OFF")),
                _ => {}
            }
        }
        relay_lines = lines.len();
        if saw_on && lines.last().is_some_and(|l| l.ends_with(" off")) {
            say(lang
                .pick("Buổi phát đã xong.", "The broadcast is over.")
                .to_string());
            return Ok(exit::OK);
        }
        // What plays, from the control socket.
        if let Ok(resp) = client::request(&socket, &Request::Status, Duration::from_secs(2))
            && let Some(st) = resp.status
        {
            if let Some(p) = st.playing {
                let total = p
                    .total_s
                    .map(|t| duration::clock(Duration::from_secs_f64(t)))
                    .unwrap_or_default();
                let elapsed = duration::clock(Duration::from_secs_f64(p.elapsed_s));
                let key = (p.index, p.file.clone());
                if last_item.as_ref() != Some(&key) {
                    say(format!(
                        "  [{}/{}] {}  {elapsed} / {total}",
                        // Counted from 1 already.
                        p.index,
                        p.count,
                        p.file
                    ));
                    last_item = Some(key);
                    last_progress = Instant::now();
                } else if last_progress.elapsed() >= Duration::from_secs(3) {
                    say(format!("        {}  {elapsed} / {total}", p.file));
                    last_progress = Instant::now();
                }
            } else if !saw_on
                && !waited_msg
                && let Some(n) = st.next
            {
                let at = n.at.get(11..19).unwrap_or(&n.at).to_string();
                say(tr!(
                    lang,
                    "Đang chờ buổi phát lúc {at}…",
                    "Waiting for the broadcast at {at}…"
                ));
                waited_msg = true;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(tr!(
        lang,
        "buổi phát thử không kết thúc đúng hạn",
        "the demo broadcast did not finish in time"
    ))
}

/// Wraps the captured raw S16_LE 48 kHz stereo in a WAV header.
fn raw_to_wav(raw: &Path, wav: &Path) -> std::io::Result<f64> {
    let data = std::fs::read(raw)?;
    let mut b = Vec::with_capacity(44 + data.len());
    let len = data.len() as u32;
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&48_000u32.to_le_bytes());
    b.extend_from_slice(&(48_000u32 * 4).to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&data);
    std::fs::write(wav, b)?;
    let _ = std::fs::remove_file(raw);
    Ok(data.len() as f64 / (48_000.0 * 4.0))
}
