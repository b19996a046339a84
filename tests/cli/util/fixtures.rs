//! Audio fixtures made at test time with real encoders (sox and lame), as
//! an operator's tools would make them: whole MP3s, WAV and FLAC files, a
//! very short one, pure silence, and the tones the service tests listen
//! for. They are made once and shared by every test (and every later run):
//! the folder under cargo's CARGO_TARGET_TMPDIR is named after the recipe,
//! and built under a temporary name then renamed into place, so a changed
//! recipe makes a new set and two runs at once never see half of one. The
//! broken files (cut off, zeroed, empty) are made from these by the tests.
//! Like the rest of `util`, it knows nothing of loa's insides.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// The encoders the fixtures need (and the apt packages that have them).
const TOOLS: [(&str, &str); 3] = [("sox", "sox"), ("lame", "lame"), ("oggenc", "vorbis-tools")];

/// A fixture: its file name, the sox synth options (after `synth SECONDS`),
/// its length in seconds, sample rate, channels, and how it is encoded.
struct Recipe {
    name: &'static str,
    seconds: &'static str,
    rate: u32,
    channels: u32,
    /// sox's `synth` effect and what follows it (after the length).
    synth: &'static [&'static str],
    encode: Encode,
}

enum Encode {
    /// lame, with these options.
    Lame(&'static [&'static str]),
    /// oggenc (Ogg Vorbis) from a 16-bit WAV, as the Xiph tools make it.
    Oggenc,
    /// sox writes the file itself (the extension says the format).
    Sox,
}

/// The set. The MP3s are what lame makes by default: a LAME Info header
/// that announces the frame count.
const RECIPES: &[Recipe] = &[
    // 10 s of a 440 Hz tone at -6 dBFS, 128 kbps CBR: cut and zeroed by the
    // tests.
    Recipe {
        name: "ban-tin.mp3",
        seconds: "10",
        rate: 44_100,
        channels: 2,
        synth: &["sine", "440", "vol", "0.5"],
        encode: Encode::Lame(&["-b", "128"]),
    },
    Recipe {
        name: "ngan.mp3",
        seconds: "0.2",
        rate: 44_100,
        channels: 2,
        synth: &["sine", "440", "vol", "0.5"],
        encode: Encode::Lame(&["-b", "128"]),
    },
    Recipe {
        name: "im-lang.mp3",
        seconds: "5",
        rate: 44_100,
        channels: 2,
        synth: &["sine", "440", "vol", "0"],
        encode: Encode::Lame(&["-b", "128"]),
    },
    Recipe {
        name: "tot.wav",
        seconds: "6",
        rate: 48_000,
        channels: 2,
        synth: &["sine", "440", "vol", "0.5"],
        encode: Encode::Sox,
    },
    Recipe {
        name: "tot.flac",
        seconds: "6",
        rate: 48_000,
        channels: 2,
        synth: &["sine", "440", "vol", "0.5"],
        encode: Encode::Sox,
    },
    // The service tests' tones, at the capture's rate so that pitch and
    // length come out as made: 3 s at 1 kHz, then its new version, 4 s at
    // 500 Hz.
    Recipe {
        name: "tone-1000.mp3",
        seconds: "3",
        rate: 48_000,
        channels: 1,
        synth: &["sine", "1000", "vol", "0.5"],
        encode: Encode::Lame(&["-b", "128"]),
    },
    Recipe {
        name: "tone-500.mp3",
        seconds: "4",
        rate: 48_000,
        channels: 1,
        synth: &["sine", "500", "vol", "0.5"],
        encode: Encode::Lame(&["-b", "128"]),
    },
    // Announcements of 5 to 20 s (speech-like: a tone under a tremolo),
    // copied in by the dozen while a broadcast airs.
    Recipe {
        name: "load-5.mp3",
        seconds: "5",
        rate: 44_100,
        channels: 1,
        synth: &["sine", "300", "tremolo", "4", "80", "vol", "0.5"],
        encode: Encode::Lame(&["-b", "64"]),
    },
    Recipe {
        name: "load-10.mp3",
        seconds: "10",
        rate: 44_100,
        channels: 1,
        synth: &["sine", "350", "tremolo", "4", "80", "vol", "0.5"],
        encode: Encode::Lame(&["-b", "64"]),
    },
    Recipe {
        name: "load-15.mp3",
        seconds: "15",
        rate: 44_100,
        channels: 1,
        synth: &["sine", "400", "tremolo", "4", "80", "vol", "0.5"],
        encode: Encode::Lame(&["-b", "64"]),
    },
    Recipe {
        name: "load-20.mp3",
        seconds: "20",
        rate: 44_100,
        channels: 1,
        synth: &["sine", "450", "tremolo", "4", "80", "vol", "0.5"],
        encode: Encode::Lame(&["-b", "64"]),
    }, // One tone (1 kHz, -3 dBFS) in every format loa plays, at three
    // lengths, rates and channel counts: each must play whole.
    Recipe {
        name: "fmt-1_3s-22050-1ch.mp3",
        seconds: "1.3",
        rate: 22_050,
        channels: 1,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Lame(&["-b", "128"]),
    },
    Recipe {
        name: "fmt-2s-44100-2ch.mp3",
        seconds: "2",
        rate: 44_100,
        channels: 2,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Lame(&["-b", "128"]),
    },
    Recipe {
        name: "fmt-7s-48000-2ch.mp3",
        seconds: "7",
        rate: 48_000,
        channels: 2,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Lame(&["-b", "128"]),
    },
    Recipe {
        name: "fmt-1_3s-22050-1ch.ogg",
        seconds: "1.3",
        rate: 22_050,
        channels: 1,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Oggenc,
    },
    Recipe {
        name: "fmt-2s-44100-2ch.ogg",
        seconds: "2",
        rate: 44_100,
        channels: 2,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Oggenc,
    },
    Recipe {
        name: "fmt-7s-48000-2ch.ogg",
        seconds: "7",
        rate: 48_000,
        channels: 2,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Oggenc,
    },
    Recipe {
        name: "fmt-1_3s-22050-1ch.flac",
        seconds: "1.3",
        rate: 22_050,
        channels: 1,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Sox,
    },
    Recipe {
        name: "fmt-2s-44100-2ch.flac",
        seconds: "2",
        rate: 44_100,
        channels: 2,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Sox,
    },
    Recipe {
        name: "fmt-7s-48000-2ch.flac",
        seconds: "7",
        rate: 48_000,
        channels: 2,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Sox,
    },
    Recipe {
        name: "fmt-1_3s-22050-1ch.wav",
        seconds: "1.3",
        rate: 22_050,
        channels: 1,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Sox,
    },
    Recipe {
        name: "fmt-2s-44100-2ch.wav",
        seconds: "2",
        rate: 44_100,
        channels: 2,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Sox,
    },
    Recipe {
        name: "fmt-7s-48000-2ch.wav",
        seconds: "7",
        rate: 48_000,
        channels: 2,
        synth: &["sine", "1000", "vol", "0.7"],
        encode: Encode::Sox,
    },
];

/// The fixtures' folder.
pub struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    /// The fixture NAME (see RECIPES).
    pub fn path(&self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        assert!(p.is_file(), "no fixture {name}");
        p
    }

    /// Its bytes.
    pub fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// The names of the tones in every format: (name, seconds).
    pub fn format_tones(&self) -> Vec<(&'static str, f64)> {
        RECIPES
            .iter()
            .filter(|r| r.name.starts_with("fmt-"))
            .map(|r| (r.name, r.seconds.parse().unwrap()))
            .collect()
    }

    /// The names of the 5-20 s announcements.
    pub fn load_names(&self) -> Vec<&'static str> {
        RECIPES
            .iter()
            .map(|r| r.name)
            .filter(|n| n.starts_with("load-"))
            .collect()
    }
}

/// The fixtures, made on first use; None (after printing why, naming
/// `test` as skipped) when an encoder is not installed.
pub fn fixtures(test: &str) -> Option<&'static Fixtures> {
    static MADE: OnceLock<Result<Fixtures, String>> = OnceLock::new();
    match MADE.get_or_init(make) {
        Ok(f) => Some(f),
        Err(why) => {
            // tests/run.sh installs the encoders: under CI a missing one is
            // a broken set-up, not a reason to skip.
            super::skip::tool_missing(test, why);
            None
        }
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

fn make() -> Result<Fixtures, String> {
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(_, pkg)| *pkg)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} not installed (apt-get install {})",
            missing.join(" and "),
            missing.join(" ")
        ));
    }
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = root.join(format!("audio-fixtures-{}", recipe_id()));
    if dir.is_dir() {
        return Ok(Fixtures { dir });
    }
    std::fs::create_dir_all(root).unwrap();
    let building = tempfile::Builder::new()
        .prefix("audio-fixtures-building-")
        .tempdir_in(root)
        .unwrap();
    for r in RECIPES {
        build(r, building.path());
    }
    // Another run may have finished first: then its set is used.
    let made = building.keep();
    if std::fs::rename(&made, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&made);
        assert!(dir.is_dir(), "could not make {}", dir.display());
    }
    Ok(Fixtures { dir })
}

/// A name for this recipe: what the fixtures are made of.
fn recipe_id() -> String {
    let mut h = Sha256::new();
    for r in RECIPES {
        let encode = match r.encode {
            Encode::Lame(opts) => format!("lame {opts:?}"),
            Encode::Oggenc => "oggenc".into(),
            Encode::Sox => "sox".into(),
        };
        h.update(format!(
            "{} {} {} {} {:?} {encode}\n",
            r.name, r.seconds, r.rate, r.channels, r.synth
        ));
    }
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn build(r: &Recipe, dir: &Path) {
    let out = dir.join(r.name);
    let wav = match r.encode {
        Encode::Sox => out.clone(),
        Encode::Lame(_) | Encode::Oggenc => dir.join(format!("{}.wav", r.name)),
    };
    let (rate, channels) = (r.rate.to_string(), r.channels.to_string());
    let mut sox = vec!["-q", "-n", "-r", &rate, "-c", &channels, "-b", "16"];
    sox.push(wav.to_str().unwrap());
    sox.extend(["synth", r.seconds]);
    sox.extend(r.synth);
    run("sox", &sox);
    if let Encode::Lame(opts) = r.encode {
        let mut lame = vec!["--quiet"];
        lame.extend(opts);
        lame.extend([wav.to_str().unwrap(), out.to_str().unwrap()]);
        run("lame", &lame);
        std::fs::remove_file(&wav).unwrap();
    }
    if let Encode::Oggenc = r.encode {
        run(
            "oggenc",
            &["-Q", wav.to_str().unwrap(), "-o", out.to_str().unwrap()],
        );
        std::fs::remove_file(&wav).unwrap();
    }
}

fn run(tool: &str, args: &[&str]) {
    let status = Command::new(tool)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("running {tool}: {e}"));
    assert!(status.success(), "{tool} {args:?} failed: {status}");
}

/// The first `fraction` of `bytes` (an upload that stopped part way).
pub fn cut(bytes: &[u8], fraction: f64) -> Vec<u8> {
    bytes[..(bytes.len() as f64 * fraction) as usize].to_vec()
}

/// `bytes` with `n` bytes zeroed in the middle (a damaged copy).
pub fn zeroed_in_the_middle(bytes: &[u8], n: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let mid = b.len() / 2;
    b[mid..mid + n].fill(0);
    b
}

/// SHA-256 of `bytes`, lowercase hex (as `loa media` and `loa log` show).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
