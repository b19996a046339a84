//! Plans 365 consecutive days of the shipped sample playlists, with the
//! files' durations coming from the media index (the cache), and prints the
//! time. Target (issue 2): under 50 ms for the year.
//!
//! Run: `cargo bench --bench plan_year`

use std::path::Path;
use std::time::{Duration, Instant};

use jiff::civil::{Date, date};
use loa::config::Config;
use loa::media::{Library, MediaIndex};
use loa::playlist;
use loa::schedule::{MediaFacts, PlanSettings, plan_for};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cfg = Config::load(&root.join("config/loa.toml")).expect("the shipped config loads");
    let state = tempfile::tempdir().expect("a temporary state folder");
    cfg.paths.state = state.path().to_path_buf();
    let lang = cfg.lang;
    let settings = PlanSettings::from_config(&cfg);

    // Fill the cache once (this probes every file).
    let t = Instant::now();
    {
        let set = playlist::load_dir(&cfg.paths.playlists, lang);
        let library = Library::scan(&cfg.paths.audio).unwrap();
        let index = MediaIndex::open(&cfg.paths.state).unwrap();
        let facts = loa::media::Facts::new(&library, &index, lang);
        for name in names(&set) {
            facts.status(&name);
        }
    }
    let first_probe = t.elapsed();

    let start: Date = date(2026, 1, 1);
    let mut runs = Vec::new();
    let mut broadcasts = 0;
    for _ in 0..20 {
        let t = Instant::now();
        // Everything a year of planning needs, from the files and the cache:
        // read the playlists, list the audio folder, durations from the index.
        let set = playlist::load_dir(&cfg.paths.playlists, lang);
        let library = Library::scan(&cfg.paths.audio).unwrap();
        let index = MediaIndex::open(&cfg.paths.state).unwrap();
        let facts = loa::media::Facts::new(&library, &index, lang);
        broadcasts = 0;
        for d in start.series(jiff::Span::new().days(1)).take(365) {
            let plan = plan_for(d, &set, &facts, &settings);
            assert!(plan.problems.is_empty(), "{:?}", plan.problems);
            broadcasts += plan.broadcasts.len();
        }
        runs.push(t.elapsed());
    }
    runs.sort();
    let median = runs[runs.len() / 2];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("plan_year: 365 days from {start}, {broadcasts} broadcasts planned per run");
    println!(
        "  first run, probing every file:       {:8.2} ms",
        ms(first_probe)
    );
    println!(
        "  year from the cache (20 runs): median {:8.2} ms, min {:8.2} ms, max {:8.2} ms",
        ms(median),
        ms(runs[0]),
        ms(runs[runs.len() - 1])
    );
    println!(
        "  target: < 50 ms  -> {}",
        if ms(median) < 50.0 { "met" } else { "MISSED" }
    );
}

fn names(set: &playlist::PlaylistSet) -> Vec<String> {
    set.default
        .iter()
        .chain(set.dated.values())
        .flat_map(|p| p.broadcasts.iter())
        .flat_map(|b| b.items.iter())
        .map(|i| i.file.clone())
        .collect()
}
