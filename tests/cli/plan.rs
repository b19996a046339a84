//! `loa plan`: the operator's table (relay on, items, relay off, in local
//! time) and the problems in the JSON form.

use crate::util::{DEFAULT_CONFIG, TestEnv, instant, list, text};

fn env_with(config: &str) -> TestEnv {
    let env = TestEnv::with_config(config);
    env.audio("nhac-hieu.mp3");
    env.audio("dai-hoi/ban-tin-1.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\ntitle = \"Morning news\"\n\
         items = [\"nhac-hieu.mp3\", \"dai-hoi/ban-tin-1.mp3\"]\ntags = [\"dai-hoi\"]\n",
    );
    env
}

/// The local HH:MM:SS of a JSON time, as the table shows it.
fn local(b: &serde_json::Value, key: &str) -> String {
    let zoned = instant(b, key).in_tz("Asia/Ho_Chi_Minh").unwrap();
    zoned.strftime("%H:%M:%S").to_string()
}

/// The table row whose first column is `time` and that holds `what`.
fn row<'a>(out: &'a crate::util::Output, time: &str, what: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| l.trim_start().starts_with(time) && l.contains(what))
        .unwrap_or_else(|| panic!("no row {time} … {what}\n{out}"))
}

// Issue 2: `loa plan`'s table shows relay on, the items and relay off, in local time.
#[test]
fn the_table_shows_relay_on_items_and_relay_off() {
    let env = env_with(DEFAULT_CONFIG);
    let plan = env.plan_json("2026-01-20");
    let b = &list(&plan, "broadcasts")[0];
    let out = env.run(&["plan", "--date", "2026-01-20"]);
    out.code(0).no_errors();
    out.says("Broadcast plan for Tuesday 2026-01-20 (Asia/Ho_Chi_Minh time)");
    out.says("Playlist: playlists/default.toml");
    out.says("Morning news");
    row(&out, "05:59:57", "RELAY ON");
    row(&out, "06:00:00", "nhac-hieu.mp3");
    let items = list(b, "items");
    row(&out, &local(&items[1], "start"), "dai-hoi/ban-tin-1.mp3");
    row(&out, &local(b, "relay_off"), "RELAY OFF");
    // Relay on first, relay off last.
    let on = out.stdout.find("RELAY ON").unwrap();
    let off = out.stdout.find("RELAY OFF").unwrap();
    let jingle = out.stdout.find("nhac-hieu.mp3").unwrap();
    assert!(on < jingle && jingle < off, "{out}");
}

// Issue 2: `loa plan`'s table in Vietnamese.
#[test]
fn the_table_in_vietnamese() {
    let env = env_with(&DEFAULT_CONFIG.replace("\"en\"", "\"vi\""));
    let plan = env.plan_json("2026-01-20");
    let b = &list(&plan, "broadcasts")[0];
    let out = env.run(&["plan", "--date", "2026-01-20"]);
    out.code(0).no_errors();
    out.says("Lịch phát thanh Thứ Ba 20/01/2026");
    row(&out, "05:59:57", "BẬT AMPLI");
    row(&out, &local(b, "relay_off"), "TẮT AMPLI");
}

// Issue 2: `loa plan --json` gives each problem with its file, line and column.
#[test]
fn json_problems_are_located() {
    let env = env_with(DEFAULT_CONFIG);
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\", \"mat.mp3\"]\n",
    );
    let plan = env.plan_json("2026-01-20");
    let problems = list(&plan, "problems");
    assert_eq!(problems.len(), 1, "{plan:#}");
    let p = &problems[0];
    assert_eq!(text(p, "severity"), "error");
    assert_eq!(text(p, "path"), "playlists/default.toml");
    assert_eq!(
        (p["line"].as_u64(), p["column"].as_u64()),
        (Some(3), Some(27))
    );
    assert!(text(p, "message").contains("no file \"mat.mp3\""), "{p:#}");
    // The rest of the broadcast still airs.
    let items = list(&list(&plan, "broadcasts")[0], "items");
    assert_eq!(items.len(), 1, "{plan:#}");
}
