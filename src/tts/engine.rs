//! Running the speech programs: espeak-ng (Debian's package) or Piper,
//! each as a program of its own (never linked: espeak-ng is GPL), with the
//! text on its standard input and a WAV file out, bounded in time.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::tts::{Engine, TtsConfig};
use crate::lang::Lang;
use crate::tr;

/// The longest a render may take before it is given up (a stuck program
/// must not hold an emergency for ever).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Why a program did not give speech.
#[derive(Debug)]
pub enum EngineError {
    /// The program is not on the box.
    NotInstalled(String),
    /// The Piper voice model is not where the config says.
    NoModel(String),
    /// The program ran and failed (its exit and its last words).
    Failed(String),
}

impl EngineError {
    /// For the operator: what is missing and how to put it there.
    pub fn message(&self, engine: Engine, lang: Lang) -> String {
        match (self, engine) {
            (EngineError::NotInstalled(_), Engine::EspeakNg) => tr!(
                lang,
                "Chưa cài chương trình đọc văn bản espeak-ng; hãy cài: sudo apt install espeak-ng",
                "the speech program espeak-ng is not installed; install it: sudo apt install espeak-ng"
            ),
            (EngineError::NotInstalled(p), Engine::Piper) => tr!(
                lang,
                "Không tìm thấy chương trình Piper \"{p}\"; hãy chép Piper vào máy (xem hướng dẫn) hoặc sửa [tts] piper-program.",
                "the Piper program \"{p}\" is not on this box; copy Piper onto it (see the guide) or correct [tts] piper-program"
            ),
            (EngineError::NoModel(p), _) => tr!(
                lang,
                "Không có tệp giọng đọc Piper \"{p}\"; hãy chép tệp .onnx và .onnx.json của giọng vào đó (xem hướng dẫn) hoặc sửa [tts] piper-model.",
                "there is no Piper voice model \"{p}\"; copy the voice's .onnx and .onnx.json there (see the guide) or correct [tts] piper-model"
            ),
            (EngineError::Failed(why), e) => {
                let name = e.as_str();
                tr!(
                    lang,
                    "Chương trình {name} không đọc được văn bản này: {why}",
                    "{name} could not read this text: {why}"
                )
            }
        }
    }
}

/// espeak-ng's arguments for `voice` at the configured rate and pitch,
/// writing `out`, the text read from standard input as UTF-8.
fn espeak_args(cfg: &TtsConfig, voice: &str, out: &Path) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = Vec::new();
    for s in [
        "-v",
        voice,
        "-s",
        &cfg.rate.to_string(),
        "-p",
        &cfg.pitch.to_string(),
        "-b",
        "1",
        "-w",
    ] {
        a.push(s.into());
    }
    a.push(out.as_os_str().to_owned());
    a.push("--stdin".into());
    a
}

/// Speaks `text` with espeak-ng's `voice` into `out` (a WAV file).
pub fn espeak(cfg: &TtsConfig, voice: &str, text: &str, out: &Path) -> Result<(), EngineError> {
    run(
        Path::new("espeak-ng"),
        &espeak_args(cfg, voice, out),
        text,
        out,
    )
}

/// Speaks `text` with Piper's model into `out` (a WAV file).
pub fn piper(cfg: &TtsConfig, text: &str, out: &Path) -> Result<(), EngineError> {
    let Some(model) = &cfg.piper_model else {
        return Err(EngineError::NoModel(String::new()));
    };
    if !model.is_file() {
        return Err(EngineError::NoModel(model.display().to_string()));
    }
    // Piper speaks one utterance per line: the notice is one.
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let scale = format!("{:.3}", 150.0 / f64::from(cfg.rate.max(1)));
    let args: Vec<std::ffi::OsString> = vec![
        "--model".into(),
        model.as_os_str().to_owned(),
        "--output_file".into(),
        out.as_os_str().to_owned(),
        "--length_scale".into(),
        scale.into(),
    ];
    run(&cfg.piper_program, &args, &format!("{line}\n"), out)
}

/// Runs `program` with `args`, `input` on its standard input, for at most
/// [`TIMEOUT`]; Ok once it exited 0 and `out` has something in it.
fn run(
    program: &Path,
    args: &[std::ffi::OsString],
    input: &str,
    out: &Path,
) -> Result<(), EngineError> {
    let shown = program.display().to_string();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                EngineError::NotInstalled(shown.clone())
            }
            _ => EngineError::Failed(e.to_string()),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A program that stops reading early says why on stderr.
        let _ = stdin.write_all(input.as_bytes());
    }
    // The stderr pipe is read on the side, so that a chatty program never
    // blocks on a full pipe while it is waited for.
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(EngineError::Failed(format!(
                    "{shown}: no answer in {} s",
                    TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(EngineError::Failed(e.to_string())),
        }
    };
    let said = reader.join().unwrap_or_default();
    let last = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    if !status.success() {
        return Err(EngineError::Failed(format!("{shown}: {status}; {last}")));
    }
    match std::fs::metadata(out) {
        Ok(m) if m.len() > 44 => Ok(()),
        _ => Err(EngineError::Failed(format!(
            "{shown}: no sound written; {last}"
        ))),
    }
}
