//! The fuzz harness for everything that reads untrusted media: the header
//! check, validation (probe, measure, the frame and page walks) and the
//! playback decoder. Inputs are the seeds in tests/data/fuzz/seeds/ (one
//! small file per format) mutated where containers keep their facts (the
//! first bytes) and anywhere, cut short, or spliced. Each must come back as
//! a verdict, never as a panic out of loa, a hang or an abort. Runs for
//! LOA_FUZZ_SECS seconds (default 60, as the suite runs it) with a seed
//! from LOA_FUZZ_SEED (default: the time). Inputs that made a decoder panic
//! (contained, but worth a header check) are written to LOA_FUZZ_SAVE when
//! set; the ones found so far are in tests/data/fuzz/found/ and replayed by
//! `found_inputs_are_refused_without_a_panic`.
//!
//! It is a test binary of its own (`cargo test --test fuzz`): a minute of
//! decoding on every core must not run beside the unit tests.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use loa::media::Decoder;
use loa::media::MediaPath;
use loa::media::validate::{Verdict, validate};

fn data(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// xorshift64*: reproducible from its seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `seed`.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            break;
        }
        let head = b.len().min(256);
        match rng.below(7) {
            // A byte in the header: random, 0, 0xFF, or one bit flipped.
            0 => {
                let i = rng.below(head);
                b[i] = rng.next() as u8;
            }
            1 => {
                let i = rng.below(head);
                b[i] = if rng.below(2) == 0 { 0 } else { 0xFF };
            }
            2 => {
                let i = rng.below(head);
                b[i] ^= 1 << rng.below(8);
            }
            // Four bytes zeroed in the header (a rate, a size).
            3 => {
                let i = rng.below(head.saturating_sub(4).max(1));
                for x in b.iter_mut().skip(i).take(4) {
                    *x = 0;
                }
            }
            // A byte anywhere.
            4 => {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            // Cut short.
            5 => {
                let n = 1 + rng.below(b.len());
                b.truncate(n);
            }
            // A stretch copied over another place.
            _ => {
                let (from, to) = (rng.below(b.len()), rng.below(b.len()));
                let n = rng.below(64).min(b.len() - from).min(b.len() - to);
                let piece = b[from..from + n].to_vec();
                b[to..to + n].copy_from_slice(&piece);
            }
        }
    }
    b
}

/// Runs every reader of untrusted media over the file at `path`, on a
/// thread of its own: Err when something unwound out of loa or took longer
/// than `limit`.
fn read_everything(path: &Path, limit: Duration) -> Result<(), String> {
    let p = path.to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| {
            let media = MediaPath::Given(p.clone());
            let verdict = validate(&media);
            // What the playback thread does with it.
            if let Ok(mut d) = Decoder::open(&media) {
                let mut out = Vec::new();
                for _ in 0..100_000 {
                    out.clear();
                    if !matches!(d.next_into(&mut out), Ok(true)) {
                        break;
                    }
                }
            }
            let head = std::fs::read(&p).unwrap_or_default();
            let _ = loa::media::header::check(&head[..head.len().min(loa::media::header::LOOK_AT)]);
            verdict
        });
        let _ = tx.send(
            r.map(|v| matches!(v, Verdict::Ok(_)))
                .map_err(|e| loa::contain::message(e.as_ref())),
        );
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(panic)) => Err(format!("a panic came out of loa: {panic}")),
        Err(_) => Err(format!("no verdict within {limit:?}")),
    }
}

/// Issue 11: no input can make loa panic, hang or lose the day.
#[test]
fn mutated_media_never_panics_out_of_loa_nor_hangs() {
    let secs: u64 = std::env::var("LOA_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("LOA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
        | 1;
    let save = std::env::var_os("LOA_FUZZ_SAVE").map(PathBuf::from);
    // A minute of decoding on every core would starve the other tests of
    // the suite (some of which wait on real time): this one and the
    // threads it starts run at the lowest priority.
    let _ = rustix::process::setpriority_process(None, 19);
    let seeds = data("seeds");
    assert!(seeds.len() >= 5, "the seeds are missing: {seeds:?}");
    let seeds: Vec<(PathBuf, Vec<u8>)> = seeds
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (mut runs, caught_before) = (0u64, loa::contain::caught());
    while Instant::now() < deadline {
        let (path, bytes) = &seeds[(runs as usize) % seeds.len()];
        let input = mutate(bytes, &mut rng);
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("bin");
        let file = dir.path().join(format!("input.{ext}"));
        std::fs::write(&file, &input).unwrap();
        let before = loa::contain::caught();
        if let Err(why) = read_everything(&file, Duration::from_secs(30)) {
            let keep = dir.path().join(format!("failing-{runs}.{ext}"));
            std::fs::copy(&file, &keep).unwrap();
            panic!(
                "seed {seed}, run {runs}, from {}: {why}; input kept at {}",
                path.display(),
                keep.display()
            );
        }
        if loa::contain::caught() > before
            && let Some(save) = &save
        {
            std::fs::create_dir_all(save).unwrap();
            std::fs::write(save.join(format!("{seed}-{runs}.{ext}")), &input).unwrap();
        }
        runs += 1;
    }
    eprintln!(
        "fuzz: {runs} inputs in {secs} s (seed {seed}); decoder panics contained: {}",
        loa::contain::caught() - caught_before
    );
    assert!(runs > 100, "only {runs} inputs in {secs} s");
}

/// The inputs that once made a decoder panic: each is refused with a
/// reason, and nothing unwinds out of loa.
#[test]
fn found_inputs_are_refused_without_a_panic() {
    for f in data("found") {
        read_everything(&f, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let v = validate(&MediaPath::Given(f.clone()));
        assert!(matches!(v, Verdict::Rejected(_)), "{}: {v:?}", f.display());
    }
}
