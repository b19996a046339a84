//! Issue 4, "Control": `loa status`, `loa now`, `loa queue`, `loa stop`,
//! `loa skip`, `loa reload` and `loa relay on|off|status` talking to the
//! service over the control socket. The service here is a fake (the real
//! socket server answering canned responses), so these check the commands'
//! side: what they send, what they show, their exit codes, and what they say
//! when no service runs.

use loa::control::fake::{FakeDaemon, sample_status};
use loa::control::{Request, Response};
use serde_json::json;

use crate::util::{TestEnv, list, skip, text};

fn env(lang: &str) -> TestEnv {
    TestEnv::with_config(&format!(
        "language = \"{lang}\"\n[paths]\naudio = \"../audio\"\nplaylists = \"../playlists\"\nstate = \"../state\"\n[relay]\nbackend = \"sim\"\nsim-file = \"../relay.log\"\n"
    ))
}

/// A fake service on the installation's socket (ROOT/state/loa.sock, the
/// default below the state folder): the sample status, "ok" to the rest.
fn daemon(env: &TestEnv) -> FakeDaemon {
    FakeDaemon::start(&env.path("state/loa.sock"), |req| match req {
        Request::Status => Response::status(sample_status()),
        Request::Now { files, .. } => Response::ok(format!("Airing now: {}", files.join(", "))),
        Request::Skip => Response::error("Nothing is playing, so nothing was skipped."),
        other => Response::ok(format!("done: {other:?}")),
    })
    .expect("the fake service starts")
}

// Issue 4: with no service running, each control command says so plainly, exit code 1.
#[test]
fn without_the_service_the_commands_say_it_is_not_running() {
    let env = env("en");
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["now", "x.mp3"],
        &["queue", "x.mp3"],
        &["stop"],
        &["skip"],
        &["reload"],
    ] {
        let out = env.run(args);
        out.code(1);
        assert!(
            out.stderr.contains("loa is not running")
                && out.stderr.contains("sudo systemctl start loa"),
            "{out}"
        );
        assert!(out.stdout.is_empty(), "{out}");
    }
    let out = env.run(&["now", "x.mp3"]);
    assert!(out.stderr.contains("`loa play FILE...`"), "{out}");
}

// Issue 4: with no service running, the commands say so in Vietnamese.
#[test]
fn without_the_service_in_vietnamese() {
    let env = env("vi");
    for args in [&["status"][..], &["now", "x.mp3"], &["stop"]] {
        let out = env.run(args);
        out.code(1);
        assert!(
            out.stderr.contains("loa không chạy") && out.stderr.contains("systemctl start loa"),
            "{out}"
        );
    }
}

// Issue 4: a socket left behind by a killed service counts as not running.
#[test]
fn a_stale_socket_counts_as_not_running() {
    let env = env("en");
    // A service killed with -9 leaves its socket behind.
    std::fs::create_dir_all(env.path("state")).unwrap();
    drop(std::os::unix::net::UnixListener::bind(env.path("state/loa.sock")).unwrap());
    let out = env.run(&["status"]);
    out.code(1);
    assert!(out.stderr.contains("loa is not running"), "{out}");
}

// Issue 4: a control command with a config that cannot be read is exit code 2.
#[test]
fn a_broken_config_is_exit_2() {
    let env = TestEnv::with_config("language = \"en\"\n[control]\nsocket = 3\n");
    let out = env.run(&["status"]);
    out.code(2);
}

// Issue 4: `loa status --json` has the documented fields.
#[test]
fn status_json_has_the_documented_fields() {
    let env = env("en");
    let daemon = daemon(&env);
    let out = env.run(&["status", "--json"]);
    out.code(0);
    let v = out.json();
    assert_eq!(text(&v, "now"), "2026-01-20T06:01:12+07:00");
    assert_eq!(text(&v, "timezone"), "Asia/Ho_Chi_Minh");
    let p = &v["playing"];
    assert_eq!(text(p, "broadcast"), "Bản tin sáng");
    assert_eq!(text(p, "file"), "tin-tuc.mp3");
    assert_eq!(p["elapsed_s"], json!(72.4));
    assert_eq!(p["total_s"], json!(185.0));
    assert_eq!(text(p, "priority"), "normal");
    assert_eq!(
        (p["index"].as_u64(), p["count"].as_u64()),
        (Some(2), Some(3))
    );
    let n = &v["next"];
    assert_eq!(text(n, "title"), "Bản tin chiều");
    assert_eq!(text(n, "at"), "2026-01-20T17:00:00+07:00");
    assert_eq!(text(n, "relay_on"), "2026-01-20T16:59:57+07:00");
    assert_eq!(
        v["relay"],
        json!({"on": true, "since": "2026-01-20T05:59:57+07:00", "backend": "sim"})
    );
    assert_eq!(v["clock_synced"], json!(true));
    assert_eq!(text(&v, "audio_device"), "default");
    assert!(v["last_error"].is_null() && v["plan_error"].is_null());
    assert_eq!(text(&v, "playlist"), "playlists/default.toml");
    let today = list(&v, "today");
    assert_eq!(today.len(), 2);
    assert_eq!(text(&today[0], "at"), "2026-01-20T06:00:00+07:00");
    assert_eq!(text(&today[0], "status"), "playing");
    assert_eq!(text(&today[1], "status"), "pending");
    assert!(list(&v, "queued").is_empty() && list(&v, "warnings").is_empty());
    assert_eq!(daemon.requests(), [Request::Status]);
}

// Issue 4: `loa status` for a person: what plays, what is next and when, the relay.
#[test]
fn status_for_a_person() {
    let env = env("en");
    let _daemon = daemon(&env);
    let out = env.run(&["status"]);
    out.code(0);
    out.says("Playing:      tin-tuc.mp3 (1:12 / 3:05), item 2 of 3 of \"Bản tin sáng\", normal")
        .says("Next:         \"Bản tin chiều\" at 17:00:00 (in 10 h 58 min 48 s; relay on at 16:59:57)")
        .says("Relay:        ON since 05:59:57 (1 min 15 s), sim")
        .says("Clock:        synchronised")
        .says("Audio device: default")
        .says("Today (2026-01-20):\n  06:00:00  \"Bản tin sáng\"   playing\n  17:00:00  \"Bản tin chiều\"  pending\n");

    let env = self::env("vi");
    let _daemon = daemon(&env);
    let out = env.run(&["status"]);
    out.code(0);
    out.says("Đang phát:")
        .says("bài 2/3 của \"Bản tin sáng\", mức thường")
        .says("Ampli:")
        .says("BẬT từ 05:59:57, đã 1 phút 15 giây (giả lập)")
        .says("đã đồng bộ")
        .says("Hôm nay (20/01/2026):")
        .says("chờ phát");
}

// Issue 4: `loa now`, `queue`, `stop`, `skip`, `reload` send exactly what was asked.
#[test]
fn commands_send_exactly_what_was_asked() {
    let env = env("en");
    let daemon = daemon(&env);
    env.run(&["now", "a.mp3"]).code(0).says("Airing now: a.mp3");
    assert_eq!(
        daemon.requests(),
        [Request::Now {
            files: vec!["a.mp3".into()],
            slot: None,
            zones: vec![],
            origin: None,
        }]
    );
    // Issue 15: a live programme, with how long it airs.
    env.run(&["now", "--for", "10m", "line-in:default"]).code(0);
    assert_eq!(
        daemon.requests()[1],
        Request::Now {
            files: vec!["line-in:default".into()],
            slot: Some("10m".into()),
            zones: vec![],
            origin: None,
        }
    );
    env.run(&["queue", "b.mp3", "thông báo.mp3"]).code(0);
    env.run(&["stop"]).code(0);
    env.run(&["reload"]).code(0);
    assert_eq!(
        daemon.requests()[2..],
        [
            Request::Queue {
                files: vec!["b.mp3".into(), "thông báo.mp3".into()],
                zones: vec![],
            },
            Request::Stop,
            Request::Reload
        ]
    );
}

// Issue 11: the control socket takes names in the audio folder only. A
// file given by its path inside the folder is sent as its name there; one
// outside it is refused here, and nothing is sent.
#[test]
fn a_file_given_by_path_is_sent_as_its_name_in_the_audio_folder() {
    let env = env("en");
    let daemon = daemon(&env);
    env.write("audio/dai-hoi/khan.mp3", b"not really sound");
    env.run(&["now", "audio/dai-hoi/khan.mp3"]).code(0);
    assert_eq!(
        daemon.requests(),
        [Request::Now {
            files: vec!["dai-hoi/khan.mp3".into()],
            slot: None,
            zones: vec![],
            origin: None,
        }]
    );
    env.write("uploads/khan.mp3", b"not really sound");
    let out = env.run(&["now", "uploads/khan.mp3"]);
    out.code(1);
    assert!(
        out.stderr.contains("outside the audio folder") && out.stderr.contains("loa import"),
        "{out}"
    );
    assert_eq!(daemon.requests().len(), 1, "nothing more was sent");
}

// Issue 4: a command the service refuses shows why, exit code 1.
#[test]
fn a_refused_command_shows_why_and_exits_1() {
    let env = env("en");
    let _daemon = daemon(&env);
    let out = env.run(&["skip"]);
    out.code(1);
    assert!(
        out.stderr
            .contains("Nothing is playing, so nothing was skipped."),
        "{out}"
    );
}

// Issue 4: the commands use the socket named in the config.
#[test]
fn the_socket_named_in_the_config_is_used() {
    let env = TestEnv::with_config(
        "language = \"en\"\n[paths]\nstate = \"../state\"\n[control]\nsocket = \"../run/ctl.sock\"\n",
    );
    let daemon = FakeDaemon::start(&env.path("run/ctl.sock"), |_| Response::ok("stopping"))
        .expect("the fake service starts");
    env.run(&["stop"]).code(0).says("stopping");
    assert_eq!(daemon.requests(), [Request::Stop]);
}

// Issue 4: `loa relay on|off|status` go through the service while it runs.
#[test]
fn relay_commands_go_to_the_service_while_it_runs() {
    let env = env("en");
    let daemon = daemon(&env);
    env.run(&["relay", "on"])
        .code(0)
        .says("done: Relay { on: true, zone: None }");
    env.run(&["relay", "off"]).code(0);
    let out = env.run(&["relay", "status"]);
    out.code(0)
        .says("The loa service: relay ON since 05:59:57 (1 min 15 s), sim.");
    assert_eq!(
        daemon.requests(),
        [
            Request::Relay {
                on: true,
                zone: None
            },
            Request::Relay {
                on: false,
                zone: None
            },
            Request::Status
        ]
    );
    // The service owns the line: loa did not switch it behind its back.
    assert!(!env.path("relay.log").exists());

    // Once it has stopped, `loa relay` drives the line itself again.
    daemon.stop().unwrap();
    assert!(!env.path("state/loa.sock").exists());
    env.run(&["relay", "on"])
        .code(0)
        .says("Simulated relay: ON");
    env.run(&["relay", "status"])
        .code(0)
        .says("The loa service is not running");
    env.run(&["relay", "off"]).code(0);
    let log = std::fs::read_to_string(env.path("relay.log")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
}

// Issue 4: `loa relay on --for` while the service runs asks it to switch the relay off after.
#[test]
fn relay_on_for_a_while_switches_off_through_the_service() {
    let env = env("en");
    let daemon = daemon(&env);
    let out = env.run(&["relay", "on", "--for", "200ms"]);
    out.code(0).says("keeps the relay on for 0.2 s");
    assert_eq!(
        daemon.requests(),
        [
            Request::Relay {
                on: true,
                zone: None
            },
            Request::Relay {
                on: false,
                zone: None
            }
        ]
    );
}

// Issue 4: an operator outside the socket's group is told which group to join.
#[test]
fn an_operator_outside_the_group_is_told_which_group_to_join() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    // Needs to run a child as another user (nobody), which only root may.
    if !std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    {
        skip::skipped(
            "an_operator_outside_the_group_is_told_which_group_to_join",
            "not running as root (it runs a child as nobody)",
        );
        return;
    }
    let env = env("en");
    let _daemon = daemon(&env);
    let open = |rel: &str, mode| {
        std::fs::set_permissions(env.path(rel), std::fs::Permissions::from_mode(mode)).unwrap()
    };
    open("", 0o755);
    open("config", 0o755);
    open("config/loa.toml", 0o644);
    open("state", 0o755);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loa"))
        .arg("--config")
        .arg(env.config_path())
        .arg("status")
        .current_dir("/")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ermission denied") && stderr.contains("loa.toml") {
        skip::skipped(
            "an_operator_outside_the_group_is_told_which_group_to_join",
            "nobody cannot read the test's config here",
        );
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The socket belongs to root's group (the fake runs as root).
    assert!(
        stderr.contains("you may not use the loa service's control socket")
            && stderr.contains("group `root`")
            && stderr.contains("sudo usermod -aG root $USER"),
        "{stderr}"
    );
}
