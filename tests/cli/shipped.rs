//! The shipped config, playlists and samples pass `loa check`, and plan the
//! Congress days as the spec's timeline says (warm-up 3 s, gap 2 s, hold 2 s).

use serde_json::Value;

use crate::util::{Loa, Output, TestEnv, instant, list, ms_between, repo, text};

fn shipped() -> Loa {
    Loa::bare().config(repo().join("config/loa.toml"))
}

fn shipped_run(args: &[&str]) -> Output {
    shipped().args(args).run()
}

// Issue 2: the shipped config and playlists check clean today.
#[test]
fn shipped_config_checks_clean_today() {
    let out = shipped_run(&["check"]);
    out.code(0).no_errors();
    // The shipped config speaks Vietnamese.
    out.says("không có lỗi");
}

// Issue 2: the shipped config and playlists check clean on every day around the Congress.
#[test]
fn shipped_config_checks_clean_across_the_congress() {
    // 2026-01-15 .. 2026-02-03: before, during (with the dated opening day)
    // and after the Congress.
    let out = shipped_run(&["check", "--date", "2026-01-15", "--days", "20"]);
    out.code(0).no_errors();
    out.says("Đã kiểm tra 20 ngày, từ 15/01/2026 đến 03/02/2026: không có lỗi");
    let day = |d: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(d))
            .unwrap_or_else(|| panic!("no summary line for {d}\n{out}"))
    };
    let opening = day("Thứ Hai 19/01/2026:");
    assert!(
        opening.contains("3 buổi phát lúc 05:30, 11:30, 17:00")
            && opening.ends_with("playlists/2026-01-19.toml)"),
        "{opening}"
    );
    for d in [
        "Chủ Nhật 18/01/2026:",
        "Thứ Ba 20/01/2026:",
        "Thứ Ba 03/02/2026:",
    ] {
        let l = day(d);
        assert!(
            l.contains("2 buổi phát lúc 05:30, 17:00") && l.ends_with("playlists/default.toml)"),
            "{l}"
        );
    }
}

/// Checks one planned broadcast against the spec's timeline: relay on at
/// `at` - 3 s, items back to back with 2 s between them, relay off at the
/// last item's end + 2 s, every time with the commune's +07:00 offset.
fn assert_timeline(b: &Value, title: &str, at: &str, files: &[&str], tags: &[&str]) {
    assert_eq!(text(b, "title"), title, "{b:#}");
    assert_eq!(text(b, "at"), at, "{b:#}");
    for key in ["at", "relay_on", "end", "relay_off"] {
        assert!(text(b, key).ends_with("+07:00"), "{key} in {b:#}");
    }
    assert_eq!(ms_between(instant(b, "relay_on"), instant(b, "at")), 3000);
    let tags_seen: Vec<&str> = list(b, "tags")
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags_seen, tags);

    let items = list(b, "items");
    let seen: Vec<&str> = items.iter().map(|i| text(i, "file")).collect();
    assert_eq!(seen, files, "{b:#}");
    assert_eq!(instant(&items[0], "start"), instant(b, "at"));
    for item in items {
        let d = item["duration_s"].as_f64().expect("duration_s is a number");
        assert!(d > 1.0 && d < 60.0, "implausible duration {d} in {item:#}");
        if text(item, "file") == "nhac-hieu.mp3" {
            assert!((5.0..6.0).contains(&d), "the jingle lasts about 5.4 s: {d}");
        }
        for key in ["start", "end"] {
            assert!(text(item, key).ends_with("+07:00"), "{item:#}");
        }
        let length = ms_between(instant(item, "start"), instant(item, "end"));
        assert_eq!(length, (d * 1000.0).round() as i64, "{item:#}");
    }
    for pair in items.windows(2) {
        let gap = ms_between(instant(&pair[0], "end"), instant(&pair[1], "start"));
        assert_eq!(gap, 2000, "gap between {:#} and {:#}", pair[0], pair[1]);
    }
    let last = items.last().unwrap();
    assert_eq!(instant(b, "end"), instant(last, "end"));
    assert_eq!(ms_between(instant(b, "end"), instant(b, "relay_off")), 2000);
}

fn shipped_plan(date: &str) -> Value {
    let out = shipped_run(&["plan", "--date", date, "--json"]);
    out.code(0);
    let plan = out.json();
    assert_eq!(text(&plan, "date"), date);
    assert_eq!(text(&plan, "timezone"), "Asia/Ho_Chi_Minh");
    assert!(list(&plan, "problems").is_empty(), "{plan:#}");
    plan
}

// Issue 2: the shipped plan for the opening day uses its dated file, on the spec's timeline.
#[test]
fn shipped_plan_for_the_opening_day_uses_the_dated_file() {
    let plan = shipped_plan("2026-01-19");
    assert!(
        text(&plan, "source").ends_with("playlists/2026-01-19.toml"),
        "{plan:#}"
    );
    let b = list(&plan, "broadcasts");
    assert_eq!(b.len(), 3, "{plan:#}");
    let tags = ["dai-hoi-xiv", "dai-hoi", "khai-mac"];
    assert_timeline(
        &b[0],
        "Bản tin sáng - Khai mạc Đại hội",
        "2026-01-19T05:30:00+07:00",
        &[
            "nhac-hieu.mp3",
            "dai-hoi/ban-tin-1.mp3",
            "dai-hoi/ban-tin-1.mp3",
            "dai-hoi/ban-tin-2.mp3",
            "thong-bao-chung.mp3",
            "ket-thuc.mp3",
        ],
        &tags,
    );
    let short = [
        "nhac-hieu.mp3",
        "dai-hoi/ban-tin-1.mp3",
        "dai-hoi/ban-tin-2.mp3",
        "ket-thuc.mp3",
    ];
    assert_timeline(
        &b[1],
        "Bản tin trưa - Khai mạc Đại hội",
        "2026-01-19T11:30:00+07:00",
        &short,
        &tags,
    );
    assert_timeline(
        &b[2],
        "Bản tin chiều - Khai mạc Đại hội",
        "2026-01-19T17:00:00+07:00",
        &short,
        &tags,
    );
}

// Issue 2: the shipped plan for a Congress day uses default.toml, on the spec's timeline.
#[test]
fn shipped_plan_for_a_congress_day_uses_default_toml() {
    let plan = shipped_plan("2026-01-20");
    assert!(
        text(&plan, "source").ends_with("playlists/default.toml"),
        "{plan:#}"
    );
    let b = list(&plan, "broadcasts");
    assert_eq!(b.len(), 2, "{plan:#}");
    let tags = ["dai-hoi-xiv", "dai-hoi"];
    assert_timeline(
        &b[0],
        "Bản tin sáng - Đại hội",
        "2026-01-20T05:30:00+07:00",
        &[
            "nhac-hieu.mp3",
            "dai-hoi/ban-tin-1.mp3",
            "dai-hoi/ban-tin-1.mp3",
            "dai-hoi/ban-tin-2.mp3",
            "thong-bao-chung.mp3",
            "ket-thuc.mp3",
        ],
        &tags,
    );
    assert_timeline(
        &b[1],
        "Bản tin chiều - Đại hội",
        "2026-01-20T17:00:00+07:00",
        &[
            "nhac-hieu.mp3",
            "dai-hoi/ban-tin-1.mp3",
            "dai-hoi/ban-tin-2.mp3",
            "ket-thuc.mp3",
        ],
        &tags,
    );
}

// Issue 2: every sample under audio/ plays (the shipped playlists may not name
// a sample added later): a playlist naming each one checks clean.
#[test]
fn every_shipped_sample_plays() {
    let audio = repo().join("audio");
    let mut names = Vec::new();
    let mut dirs = vec![audio.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(&audio).unwrap().to_str().unwrap();
                names.push(rel.replace('\\', "/"));
            }
        }
    }
    names.sort();
    assert!(names.len() >= 5, "samples: {names:?}");
    let env = TestEnv::with_config(&format!(
        "language = \"en\"\n[paths]\naudio = {:?}\nplaylists = \"../playlists\"\nstate = \"../state\"\n",
        audio.to_str().unwrap()
    ));
    let items: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    env.write_playlist(
        "default.toml",
        format!(
            "[[broadcast]]\nat = \"06:00\"\nitems = [{}]\n",
            items.join(", ")
        ),
    );
    env.check("2026-01-20").code(0).no_errors();
    let plan = env.plan_json("2026-01-20");
    let planned = list(&list(&plan, "broadcasts")[0], "items");
    assert_eq!(planned.len(), names.len(), "{plan:#}");
    for item in planned {
        let d = item["duration_s"].as_f64().unwrap();
        assert!(d > 1.0, "{item:#}");
    }
}
