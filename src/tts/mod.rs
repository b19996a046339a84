//! Offline text to speech: an urgent notice typed (or sent by the
//! district) is read aloud on the box itself, with no network. The text
//! is normalised into the words a listener expects (`normalize`), spoken
//! by espeak-ng or Piper (`engine`, each a program of its own), and the
//! WAV kept in a cache by engine, voice and text, so that a playlist's
//! `say` item is rendered once, ahead of its broadcast. From there the
//! speech is a file like any other: validated, loudness-normalised,
//! faded, archived and logged (kind "tts").

mod ahead;
pub mod engine;
pub mod normalize;

pub use ahead::{Ahead, render_ahead};

use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::config::Config;
use crate::config::tts::{Engine, TtsConfig};
use crate::lang::Lang;
use crate::tr;

pub use normalize::Abbreviations;

/// The longest text read at once: about six minutes of speech.
pub const MAX_CHARS: usize = 5000;

/// How many characters of the text name it in the as-run log.
pub const PREVIEW_CHARS: usize = 80;

/// A text to read aloud, as a playlist item, a command or the district
/// gives it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Say {
    /// The text as written.
    pub text: String,
    /// The espeak-ng voice asked for (one of `config::tts::VOICES`); None:
    /// `[tts] voice`.
    pub voice: Option<String>,
}

impl Say {
    /// The name it goes by in the as-run log and on screen: its first
    /// 80 characters, on one line.
    pub fn preview(&self) -> String {
        preview(&self.text)
    }

    /// The SHA-256 of the text (UTF-8), lowercase hex: which text aired.
    pub fn sha256(&self) -> String {
        crate::archive::encoder::hex(&sha2::Sha256::digest(self.text.as_bytes()))
    }
}

/// The first 80 characters of `text`, its whitespace runs made one space.
pub fn preview(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(PREVIEW_CHARS).collect()
}

/// Why a text is not read at all (before any engine runs).
pub fn text_problem(text: &str, lang: Lang) -> Option<String> {
    let n = text.chars().count();
    if text.trim().is_empty() {
        return Some(tr!(
            lang,
            "Văn bản trống: không có gì để đọc.",
            "The text is empty: there is nothing to read."
        ));
    }
    if n > MAX_CHARS {
        return Some(tr!(
            lang,
            "Văn bản dài {n} ký tự, quá giới hạn {MAX_CHARS} ký tự (khoảng sáu phút đọc); hãy chia thành nhiều thông báo.",
            "The text is {n} characters long, over the limit of {MAX_CHARS} (about six minutes of speech); split it into several notices."
        ));
    }
    None
}

/// A text rendered to speech.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The WAV file in the cache.
    pub path: PathBuf,
    /// The engine that spoke it.
    pub engine: Engine,
    /// The espeak-ng voice, or the Piper model's file name.
    pub voice: String,
    /// The text as spoken (after normalisation).
    pub spoken: String,
    /// Why the configured engine did not speak it and espeak-ng did, for
    /// the operator (None when it spoke as configured).
    pub fell_back: Option<String>,
    /// Whether it was already in the cache.
    pub cached: bool,
}

/// Reads text aloud with the box's settings: the `[tts]` config, the
/// abbreviation tables and the cache folder.
#[derive(Clone, Debug)]
pub struct Speaker {
    tts: TtsConfig,
    abbreviations: Abbreviations,
    cache: PathBuf,
    lang: Lang,
    /// What was wrong with the installer's abbreviation table (the shipped
    /// one is used alone then), for `loa check`.
    pub table_problem: Option<String>,
}

/// How long a render no playlist uses is kept.
pub const KEEP_RENDERS: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// The installer's table when the config names none: beside the config.
pub const TABLE_FILE: &str = "tts-abbreviations.toml";

impl Speaker {
    /// The speaker for `cfg`: the shipped abbreviations with the
    /// installer's over them, the cache in the state folder (or, when that
    /// cannot be written, in a private temporary folder).
    pub fn new(cfg: &Config) -> Speaker {
        let lang = cfg.lang;
        let mut abbreviations = Abbreviations::builtin();
        let mut table_problem = None;
        let named = cfg.tts.abbreviations.clone();
        let file = named.clone().or_else(|| {
            let beside = cfg.path.parent()?.join(TABLE_FILE);
            beside.is_file().then_some(beside)
        });
        if let Some(file) = file {
            match std::fs::read_to_string(&file) {
                Ok(text) => match Abbreviations::parse(&text, &file, lang) {
                    Ok(extra) => abbreviations.extend(extra),
                    Err(why) => table_problem = Some(why),
                },
                Err(e) => {
                    let shown = crate::problem::display_path(&file);
                    let why = crate::tomlfile::io_reason(&e, lang);
                    table_problem = Some(tr!(
                        lang,
                        "Không đọc được bảng chữ viết tắt {shown} ({why}); loa dùng bảng có sẵn.",
                        "cannot read the abbreviation table {shown} ({why}); loa uses the shipped one"
                    ));
                }
            }
        }
        Speaker {
            tts: cfg.tts.clone(),
            abbreviations,
            cache: cache_dir(&cfg.paths.state),
            lang,
            table_problem,
        }
    }

    /// The text exactly as it will be spoken.
    pub fn spoken(&self, text: &str) -> String {
        normalize::normalize(text, &self.abbreviations)
    }

    /// The folder the renders are kept in.
    pub fn cache(&self) -> &Path {
        &self.cache
    }

    /// Deletes the renders not written for [`KEEP_RENDERS`] that are not in
    /// `keep` (what the playlists use now), and renders cut short (older
    /// than an hour): a month of one-off notices, not years of them, on the
    /// SD card. Returns how many went.
    pub fn prune(&self, keep: &std::collections::HashSet<PathBuf>) -> usize {
        let Ok(dir) = std::fs::read_dir(&self.cache) else {
            return 0;
        };
        let now = std::time::SystemTime::now();
        let mut gone = 0;
        for e in dir.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let age = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default();
            let stale = if name.ends_with(".wav") {
                age > KEEP_RENDERS && !keep.contains(&path)
            } else {
                name.contains(".part") && age > std::time::Duration::from_secs(3600)
            };
            if stale && std::fs::remove_file(&path).is_ok() {
                gone += 1;
            }
        }
        gone
    }

    /// The espeak-ng voice for `say` (its own, else `[tts] voice`).
    fn voice_of(&self, say: &Say) -> Result<String, String> {
        match &say.voice {
            None => Ok(self.tts.voice.clone()),
            Some(v) => crate::config::tts::voice(v)
                .map(str::to_string)
                .ok_or_else(|| crate::config::tts::unknown_voice(v, self.lang)),
        }
    }

    /// Renders `say` (or finds it in the cache). Piper missing or failing:
    /// espeak-ng's voice speaks instead, and `fell_back` says why. Err: no
    /// speech at all, with what to do.
    pub fn render(&self, say: &Say) -> Result<Rendered, String> {
        let lang = self.lang;
        if let Some(why) = text_problem(&say.text, lang) {
            return Err(why);
        }
        let voice = self.voice_of(say)?;
        let spoken = self.spoken(&say.text);
        let mut fell_back = None;
        if self.tts.engine == Engine::Piper {
            let model = self
                .tts
                .piper_model
                .as_ref()
                .map(|m| m.display().to_string())
                .unwrap_or_default();
            let path = self.path_for(Engine::Piper, &model, &spoken);
            if path.is_file() {
                return Ok(self.rendered(path, Engine::Piper, model, spoken, None, true));
            }
            match self.write(&path, |out| engine::piper(&self.tts, &spoken, out)) {
                Ok(()) => {
                    return Ok(self.rendered(path, Engine::Piper, model, spoken, None, false));
                }
                Err(e) => {
                    let why = e.message(Engine::Piper, lang);
                    tracing::warn!(problem = %why, voice = %voice, "{}", crate::lang::log("Piper không đọc được; dùng giọng espeak-ng", "Piper cannot speak; espeak-ng's voice reads instead"));
                    fell_back = Some(tr!(
                        lang,
                        "{why} Văn bản được đọc bằng giọng espeak-ng \"{voice}\" thay thế.",
                        "{why}; the text is read with espeak-ng's \"{voice}\" voice instead."
                    ));
                }
            }
        }
        let path = self.path_for(Engine::EspeakNg, &voice, &spoken);
        if path.is_file() {
            return Ok(self.rendered(path, Engine::EspeakNg, voice, spoken, fell_back, true));
        }
        self.write(&path, |out| engine::espeak(&self.tts, &voice, &spoken, out))
            .map_err(|e| e.message(Engine::EspeakNg, lang))?;
        Ok(self.rendered(path, Engine::EspeakNg, voice, spoken, fell_back, false))
    }

    fn rendered(
        &self,
        path: PathBuf,
        engine: Engine,
        voice: String,
        spoken: String,
        fell_back: Option<String>,
        cached: bool,
    ) -> Rendered {
        Rendered {
            path,
            engine,
            voice,
            spoken,
            fell_back,
            cached,
        }
    }

    /// The cache file for this engine, voice (or model), settings and
    /// spoken text.
    fn path_for(&self, engine: Engine, voice: &str, spoken: &str) -> PathBuf {
        let t = &self.tts;
        let key = format!(
            "{}\0{voice}\0{}\0{}\0{spoken}",
            engine.as_str(),
            t.rate,
            if engine == Engine::EspeakNg {
                t.pitch
            } else {
                0
            },
        );
        let sum = crate::archive::encoder::hex(&sha2::Sha256::digest(key.as_bytes()));
        self.cache.join(format!("{}.wav", &sum[..32]))
    }

    /// Renders into a temporary file beside `path`, then moves it there:
    /// a render cut short never leaves half a file in the cache.
    fn write(
        &self,
        path: &Path,
        render: impl FnOnce(&Path) -> Result<(), engine::EngineError>,
    ) -> Result<(), engine::EngineError> {
        let _ = std::fs::create_dir_all(&self.cache);
        let tmp = path.with_extension(format!("part{}", std::process::id()));
        let r = render(&tmp);
        if r.is_ok() && std::fs::rename(&tmp, path).is_err() {
            let _ = std::fs::remove_file(&tmp);
            return Err(engine::EngineError::Failed(tr!(
                self.lang,
                "không ghi được vào thư mục {}",
                "cannot write into the folder {}",
                crate::problem::display_path(&self.cache)
            )));
        }
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }
}

/// The cache folder: `STATE/tts`, or a private temporary folder when the
/// state folder cannot be written (`loa check` by an account that only
/// reads it).
fn cache_dir(state: &Path) -> PathBuf {
    let dir = state.join("tts");
    if writable(&dir) {
        return dir;
    }
    let uid = rustix::process::getuid().as_raw();
    let tmp = std::env::temp_dir().join(format!("loa-tts-{uid}"));
    if std::fs::create_dir_all(&tmp).is_ok() {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o700));
    }
    tmp
}

fn writable(dir: &Path) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok()
}

/// The item that airs `say`: rendered (or found in the cache), validated
/// and measured like any file, at the `[tts]` gain plus the item's own.
/// Its name is the text's first 80 characters, its SHA-256 the text's.
/// The note says why Piper did not speak, when it did not.
pub fn air_item(
    cfg: &Config,
    speaker: &Speaker,
    say: &Say,
    item_volume_db: f64,
) -> (crate::air::AirItem, Option<String>) {
    let name = say.preview();
    let rendered = match speaker.render(say) {
        Ok(r) => r,
        Err(why) => return (crate::air::AirItem::failed(&name, why), None),
    };
    let index = crate::media::MediaIndex::open(&cfg.paths.state)
        .unwrap_or_else(|_| crate::media::MediaIndex::in_memory());
    let library = crate::media::Library::empty(&cfg.paths.audio);
    let found = crate::media::find_and_probe(
        &rendered.path.display().to_string(),
        &library,
        &index,
        cfg.lang,
    );
    let mut item = crate::air::AirItem::from_found(
        &name,
        found,
        &cfg.audio,
        cfg.tts.volume_db + item_volume_db,
    );
    item.speech = true;
    item.sha256 = Some(say.sha256());
    (item, rendered.fell_back)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        let mut cfg = Config::defaults(dir);
        cfg.lang = Lang::En;
        cfg
    }

    fn say(text: &str, voice: Option<&str>) -> Say {
        Say {
            text: text.into(),
            voice: voice.map(str::to_string),
        }
    }

    // Issue 18: a text is rendered once per engine, voice and text; the
    // second time it comes from the cache, the same file.
    #[test]
    fn renders_are_cached_by_engine_voice_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let sp = Speaker::new(&cfg);
        let a = sp.render(&say("Xin chào bà con", None)).unwrap();
        assert!(!a.cached);
        assert_eq!((a.engine, a.voice.as_str()), (Engine::EspeakNg, "vi"));
        assert!(a.path.starts_with(dir.path().join("state/tts")));
        let again = sp.render(&say("Xin chào bà con", None)).unwrap();
        assert!(again.cached);
        assert_eq!(again.path, a.path);
        let south = sp
            .render(&say("Xin chào bà con", Some("vi-VN-x-south")))
            .unwrap();
        assert_ne!(south.path, a.path);
        let other = sp.render(&say("Xin chào cả xã", None)).unwrap();
        assert_ne!(other.path, a.path);
        // No half-written file is left beside the renders.
        let names: Vec<String> = std::fs::read_dir(sp.cache())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| n.ends_with(".wav")), "{names:?}");
        // An unknown voice and an empty text: no engine runs.
        assert!(
            sp.render(&say("Xin chào", Some("en")))
                .unwrap_err()
                .contains("vi-VN-x-south")
        );
        assert!(sp.render(&say(" \n", None)).unwrap_err().contains("empty"));
    }

    // Issue 18: renders no playlist uses go after a month; those in use
    // and recent ones stay, and a render cut short goes after an hour.
    #[test]
    fn old_renders_no_playlist_uses_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let sp = Speaker::new(&config(dir.path()));
        let used = sp.render(&say("Lịch tiêm phòng", None)).unwrap().path;
        let old = sp.render(&say("Bão số ba", None)).unwrap().path;
        let new = sp.render(&say("Cắt nước", None)).unwrap().path;
        let part = sp.cache().join("abc.wav.part77");
        std::fs::write(&part, b"half").unwrap();
        let long_ago = std::time::SystemTime::now() - KEEP_RENDERS * 2;
        for p in [&used, &old, &part] {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        let keep: std::collections::HashSet<PathBuf> = [used.clone()].into();
        assert_eq!(sp.prune(&keep), 2);
        assert!(used.exists() && new.exists());
        assert!(!old.exists() && !part.exists());
    }

    // Issue 18: the item that airs a text: measured like a file, named by
    // its first 80 characters, its SHA-256 the text's, its kind "tts".
    #[test]
    fn the_air_item_is_named_and_summed_by_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        std::fs::create_dir_all(&cfg.paths.audio).unwrap();
        let sp = Speaker::new(&cfg);
        let text = "Thông báo: ".repeat(12);
        let (item, note) = air_item(&cfg, &sp, &say(&text, None), -2.0);
        assert!(note.is_none());
        assert_eq!(item.name.chars().count(), 80);
        assert!(text.starts_with(&item.name));
        assert_eq!(
            item.sha256.as_deref(),
            Some(say(&text, None).sha256().as_str())
        );
        assert_eq!(item.kind(), crate::asrun::Kind::Tts);
        let secs = item.duration.unwrap().as_secs_f64();
        assert!((3.0..20.0).contains(&secs), "{secs}");
        assert!(item.source.is_ok());
    }

    // Issue 18: Piper is run as its command line is documented (the text
    // on standard input, `--model`, `--output_file`, `--length_scale`);
    // Piper itself cannot run here (no voice model on this machine), so a
    // stand-in script with Piper's command line speaks through espeak-ng.
    #[test]
    fn piper_is_run_with_its_command_line_and_falls_back_when_it_fails() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path());
        let model = dir.path().join("vi_VN-test.onnx");
        std::fs::write(&model, b"model").unwrap();
        let script = dir.path().join("piper");
        let args_file = dir.path().join("args.txt");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$@\" > {}\nwhile [ $# -gt 0 ]; do [ \"$1\" = --output_file ] && out=$2; shift; done\nexec espeak-ng -v vi -w \"$out\" --stdin\n",
                args_file.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        cfg.tts.engine = Engine::Piper;
        cfg.tts.piper_model = Some(model.clone());
        cfg.tts.piper_program = script.clone();
        cfg.tts.rate = 100;
        let sp = Speaker::new(&cfg);
        let r = sp.render(&say("Bão số ba", None)).unwrap();
        assert_eq!(r.engine, Engine::Piper);
        assert!(r.fell_back.is_none());
        let args = std::fs::read_to_string(&args_file).unwrap();
        assert!(
            args.starts_with(&format!("--model {} --output_file ", model.display())),
            "{args}"
        );
        assert!(args.trim_end().ends_with("--length_scale 1.500"), "{args}");
        // Piper failing: espeak-ng speaks, and the note says why.
        std::fs::write(&script, "#!/bin/sh\necho 'onnx: bad model' >&2\nexit 3\n").unwrap();
        let r = sp.render(&say("Bão số bốn", None)).unwrap();
        assert_eq!(r.engine, Engine::EspeakNg);
        let note = r.fell_back.unwrap();
        assert!(note.contains("onnx: bad model"), "{note}");
    }
}
