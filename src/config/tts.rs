//! `[tts]`: how text is read aloud on the box (src/tts). What is checked
//! here is the config alone: the engine's name, the voice, the numbers in
//! range. Whether the engine's program and the Piper model are really on
//! the box is said by `loa check` and when speech is rendered (with the
//! espeak-ng voice taking over from a missing Piper).

use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::tomlfile::Walk;
use crate::tr;

/// Which program speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Debian's `espeak-ng`, run as a program (its GPL code is not linked
    /// into loa).
    EspeakNg,
    /// A Piper binary and a Vietnamese voice model put on the box by the
    /// installer.
    Piper,
}

impl Engine {
    /// The config value: "espeak-ng" or "piper".
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::EspeakNg => "espeak-ng",
            Engine::Piper => "piper",
        }
    }
}

/// The espeak-ng voices for Vietnamese, as the config writes them.
pub const VOICES: &[&str] = &["vi", "vi-VN-x-central", "vi-VN-x-south"];

/// The voice as written in `VOICES` when `name` is one of them (case is
/// ignored: espeak-ng lists them in lower case).
pub fn voice(name: &str) -> Option<&'static str> {
    VOICES
        .iter()
        .copied()
        .find(|v| v.eq_ignore_ascii_case(name.trim()))
}

/// `[tts]` as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct TtsConfig {
    /// The engine (espeak-ng by default).
    pub engine: Engine,
    /// The espeak-ng voice (one of [`VOICES`]): the voice of every text
    /// that names none, and the voice that takes over from Piper.
    pub voice: String,
    /// Speed in words per minute (espeak-ng's `-s`, 80 to 400; Piper's
    /// length scale is 150 / rate).
    pub rate: u32,
    /// Pitch, 0 to 99 (espeak-ng's `-p`; Piper has none).
    pub pitch: u32,
    /// Gain on top of the loudness normalisation every file gets, in dB.
    pub volume_db: f64,
    /// The Piper voice model (`.onnx`, its `.onnx.json` beside it).
    pub piper_model: Option<PathBuf>,
    /// The Piper program ("piper": looked up on PATH).
    pub piper_program: PathBuf,
    /// The installer's abbreviation table, read over the shipped one;
    /// None: `tts-abbreviations.toml` beside the config, when there is one.
    pub abbreviations: Option<PathBuf>,
}

impl TtsConfig {
    /// The settings when the config has no `[tts]`.
    pub fn defaults() -> TtsConfig {
        TtsConfig {
            engine: Engine::EspeakNg,
            voice: "vi".into(),
            rate: 150,
            pitch: 50,
            volume_db: 0.0,
            piper_model: None,
            piper_program: PathBuf::from("piper"),
            abbreviations: None,
        }
    }
}

const KEYS: &[&str] = &[
    "engine",
    "voice",
    "rate",
    "pitch",
    "volume-db",
    "piper-model",
    "piper-program",
    "abbreviations",
];

/// Reads `[tts]` into `tts`, each mistake at its place.
pub fn read_tts(w: &mut Walk<'_>, t: &DeTable<'_>, tts: &mut TtsConfig, dir: &Path) {
    let lang = w.lang;
    w.unknown_keys(t, KEYS, "[tts]");
    if let Some(v) = t.get("engine")
        && let Some(s) = w.string("engine", v, "engine = \"espeak-ng\"")
    {
        match s.trim() {
            "espeak-ng" => tts.engine = Engine::EspeakNg,
            "piper" => tts.engine = Engine::Piper,
            other => w.error(
                &v.span(),
                tr!(
                    lang,
                    "Không có chương trình đọc \"{other}\"; hãy ghi \"espeak-ng\" (có sẵn trong Debian) hoặc \"piper\" (khi đã cài Piper và giọng tiếng Việt).",
                    "there is no engine \"{other}\"; write \"espeak-ng\" (Debian's package) or \"piper\" (once Piper and a Vietnamese voice are installed)"
                ),
            ),
        }
    }
    if let Some(v) = t.get("voice")
        && let Some(s) = w.string("voice", v, "voice = \"vi\"")
    {
        match voice(&s) {
            Some(known) => tts.voice = known.to_string(),
            None => w.error(&v.span(), unknown_voice(&s, lang)),
        }
    }
    if let Some(x) = super::number_key(w, t, "rate", 80.0, 400.0, "rate = 150") {
        tts.rate = x.round() as u32;
    }
    if let Some(x) = super::number_key(w, t, "pitch", 0.0, 99.0, "pitch = 50") {
        tts.pitch = x.round() as u32;
    }
    if let Some(x) = super::number_key(w, t, "volume-db", -60.0, 20.0, "volume-db = 0.0") {
        tts.volume_db = x;
    }
    let path = |w: &mut Walk<'_>, key: &str, example: &str| -> Option<PathBuf> {
        let v = t.get(key)?;
        let s = w.string(key, v, example)?;
        if s.trim().is_empty() {
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "`{key}` không được để trống; ví dụ: {example}",
                    "`{key}` must not be empty; for example: {example}"
                ),
            );
            return None;
        }
        let p = PathBuf::from(s.trim());
        Some(if p.is_absolute() { p } else { dir.join(p) })
    };
    tts.piper_model = path(
        w,
        "piper-model",
        "piper-model = \"/var/lib/loa/voices/vi_VN-vais1000-medium.onnx\"",
    );
    if let Some(p) = path(w, "piper-program", "piper-program = \"/opt/piper/piper\"") {
        // A bare name is looked up on PATH, as a shell would.
        let raw = t
            .get("piper-program")
            .and_then(|v| v.get_ref().as_str().map(str::trim))
            .unwrap_or_default();
        tts.piper_program = if raw.contains('/') {
            p
        } else {
            PathBuf::from(raw)
        };
    }
    tts.abbreviations = path(
        w,
        "abbreviations",
        "abbreviations = \"/etc/loa/tts-abbreviations.toml\"",
    );
    if tts.engine == Engine::Piper
        && tts.piper_model.is_none()
        && let Some(v) = t.get("engine")
    {
        w.error(
            &v.span(),
            tr!(
                lang,
                "`engine = \"piper\"` cần tệp giọng đọc: hãy thêm piper-model = \"/var/lib/loa/voices/vi_VN-....onnx\" (xem hướng dẫn, mục đọc văn bản).",
                "`engine = \"piper\"` needs a voice model: add piper-model = \"/var/lib/loa/voices/vi_VN-....onnx\" (see the guide on text to speech)"
            ),
        );
    }
}

/// "there is no voice X", with the voices there are.
pub fn unknown_voice(name: &str, lang: crate::lang::Lang) -> String {
    let known = VOICES.join(", ");
    let shown = crate::air::display_name(name);
    tr!(
        lang,
        "Không có giọng đọc \"{shown}\"; các giọng tiếng Việt là: {known} (giọng Bắc, Trung, Nam).",
        "there is no voice \"{shown}\"; the Vietnamese voices are: {known} (northern, central, southern)"
    )
}
