//! Where the config is found (`--config`, `$LOA_CONFIG`, /etc/loa/loa.toml,
//! ./config/loa.toml), relative paths in it resolved against its own folder,
//! and the commune's time zone used whatever the system's zone is.

use std::path::Path;

use crate::util::{DEFAULT_CONFIG, Loa, TestEnv, list, skip, text};

/// An installation whose config is recognisable in the plan: Paris time and
/// one broadcast titled "Found".
fn recognisable() -> TestEnv {
    let env = TestEnv::with_config(&format!("timezone = \"Europe/Paris\"\n{DEFAULT_CONFIG}"));
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\ntitle = \"Found\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    env
}

/// Asserts the plan came from `env`'s config and playlists.
fn assert_from(env: &TestEnv, out: &crate::util::Output) {
    out.code(0);
    let plan = out.json();
    assert_eq!(text(&plan, "timezone"), "Europe/Paris", "{plan:#}");
    assert_eq!(text(&list(&plan, "broadcasts")[0], "title"), "Found");
    let source = Path::new(text(&plan, "source"));
    let source = if source.is_absolute() {
        source.to_path_buf()
    } else {
        env.root().join(source)
    };
    assert_eq!(source, env.path("playlists/default.toml"), "{plan:#}");
}

const PLAN: &[&str] = &["plan", "--date", "2026-01-20", "--json"];

// Issue 2: `--config` works before and after the subcommand.
#[test]
fn config_flag_before_and_after_the_subcommand() {
    let env = recognisable();
    let elsewhere = tempfile::tempdir().unwrap();
    let cfg = env.config_path();
    let cfg = cfg.to_str().unwrap();
    let before = Loa::bare()
        .args(&["--config", cfg])
        .args(PLAN)
        .current_dir(elsewhere.path())
        .run();
    assert_from(&env, &before);
    let after = Loa::bare()
        .args(PLAN)
        .args(&["--config", cfg])
        .current_dir(elsewhere.path())
        .run();
    assert_from(&env, &after);
}

// Issue 2: the config is found through $LOA_CONFIG.
#[test]
fn loa_config_variable() {
    let env = recognisable();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Loa::bare()
        .args(PLAN)
        .env("LOA_CONFIG", env.config_path())
        .current_dir(elsewhere.path())
        .run();
    assert_from(&env, &out);
}

// Issue 2: `--config` wins over $LOA_CONFIG.
#[test]
fn config_flag_wins_over_the_variable() {
    let env = recognisable();
    let out = env
        .loa()
        .args(PLAN)
        .env("LOA_CONFIG", env.path("config/not-this-one.toml"))
        .run();
    assert_from(&env, &out);
}

// Issue 2: without --config or $LOA_CONFIG, ./config/loa.toml is used.
#[test]
fn config_in_the_current_folder() {
    if Path::new("/etc/loa/loa.toml").exists() {
        skip::skipped(
            "config_in_the_current_folder",
            "/etc/loa/loa.toml exists on this machine and takes precedence",
        );
        return;
    }
    let env = recognisable();
    let out = Loa::bare().args(PLAN).current_dir(env.root()).run();
    assert_from(&env, &out);
}

// Issue 2: with no config anywhere, `loa check` exits 2 naming --config and $LOA_CONFIG.
#[test]
fn no_config_anywhere() {
    if Path::new("/etc/loa/loa.toml").exists() {
        skip::skipped(
            "no_config_anywhere",
            "/etc/loa/loa.toml exists on this machine and takes precedence",
        );
        return;
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Loa::bare()
        .args(&["check"])
        .current_dir(elsewhere.path())
        .run();
    out.code(2);
    // Without a config the language is not known: Vietnamese, the default.
    let line = out
        .problems("lỗi")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no error line\n{out}"));
    assert!(
        line.contains("--config") && line.contains("LOA_CONFIG"),
        "{line}"
    );
}

// Issue 2: relative paths in the config resolve against the config's own folder.
#[test]
fn relative_paths_resolve_against_the_config_folder() {
    // ROOT/loa.toml names "audio", "playlists" and "state": below ROOT, even
    // when loa runs from a folder that has its own playlists/.
    let env = TestEnv::new();
    env.write(
        "loa.toml",
        "language = \"en\"\ntimezone = \"Europe/Paris\"\n\
         [paths]\naudio = \"audio\"\nplaylists = \"playlists\"\nstate = \"state\"\n",
    );
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\ntitle = \"Found\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    let cwd = TestEnv::new();
    cwd.audio("nhac-hieu.mp3");
    cwd.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"07:00\"\ntitle = \"Wrong folder\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    let out = Loa::bare()
        .config(env.path("loa.toml"))
        .args(PLAN)
        .current_dir(cwd.root())
        .run();
    assert_from(&env, &out);
    assert!(
        env.path("state/loa.db").exists(),
        "the state folder is ROOT/state"
    );
    assert!(
        !cwd.path("state").exists(),
        "nothing written to the current folder"
    );
}

// Issue 2: a relative --config path is taken from the current folder.
#[test]
fn relative_config_path_from_the_current_folder() {
    let env = recognisable();
    let out = Loa::bare()
        .config("config/loa.toml")
        .args(PLAN)
        .current_dir(env.root())
        .run();
    assert_from(&env, &out);
}

// Issue 2: times are in the configured time zone, not the system's.
#[test]
fn times_are_in_the_configured_zone_not_the_systems() {
    let env = TestEnv::with_config(&format!(
        "timezone = \"America/New_York\"\n{DEFAULT_CONFIG}"
    ));
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    for (date, offset) in [("2026-01-20", "-05:00"), ("2026-07-01", "-04:00")] {
        let out = env
            .loa()
            .args(&["plan", "--date", date, "--json"])
            .env("TZ", "Asia/Tokyo")
            .run();
        out.code(0);
        let plan = out.json();
        assert_eq!(text(&plan, "timezone"), "America/New_York");
        let b = &list(&plan, "broadcasts")[0];
        assert_eq!(text(b, "at"), format!("{date}T06:00:00{offset}"));
        assert_eq!(text(b, "relay_on"), format!("{date}T05:59:57{offset}"));
        for key in ["end", "relay_off"] {
            assert!(text(b, key).ends_with(offset), "{key} in {b:#}");
        }
        for item in list(b, "items") {
            assert!(text(item, "start").ends_with(offset), "{item:#}");
        }
    }
}

// Issue 19: a state folder on a file system kept in memory (a tmpfs here; a
// read-only root's overlay on a Pi) is a warning at its key: the as-run log
// would be gone after a reboot. A folder on disk is not.
#[test]
fn a_state_folder_in_memory_is_warned_of_and_one_on_disk_is_not() {
    let shm = Path::new("/dev/shm");
    let on_tmpfs = std::process::Command::new("stat")
        .args(["-f", "-c", "%T", "/dev/shm"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "tmpfs");
    if !on_tmpfs {
        skip::skipped(
            "a_state_folder_in_memory_is_warned_of",
            "/dev/shm is not a tmpfs on this machine",
        );
        return;
    }
    let env = TestEnv::new();
    let on_disk = env.check("2026-01-20");
    assert!(
        !on_disk.stdout.contains("memory"),
        "no warning for folders on disk\n{on_disk}"
    );
    let state = tempfile::tempdir_in(shm).unwrap();
    let state_line = format!("state = \"{}\"", state.path().display());
    env.write_config(&DEFAULT_CONFIG.replace("state = \"../state\"", &state_line));
    let out = env.check("2026-01-20");
    out.no_errors();
    let line = out.problem("config/loa.toml:6:1", "warning", "kept in memory");
    assert!(
        line.contains(&state.path().display().to_string())
            && line.contains("the as-run log")
            && line.contains("A read-only root"),
        "the warning names the folder, what is lost and the guide: {line}"
    );
}
