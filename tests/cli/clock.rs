//! Issue 11: clock jumps with the real binary. `loa run` runs under
//! libfaketime (apt `faketime`) with its offset in a file the test rewrites
//! (FAKETIME_TIMESTAMP_FILE, read on every call), the monotonic clock left
//! alone: exactly what a box sees when NTP or the operator sets its clock.
//! The stand-in card's pacer is a thread of the test, so it never inherits
//! LD_PRELOAD. The tests look at the relay's sim-file, `loa log` and `loa
//! status`: what fell inside a forward jump is missed with the jump as the
//! reason and never aired; no burst; nothing airs twice after a backward
//! jump.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::util::TestEnv;
use crate::util::service::{self, Commune, Service, broadcasts_toml, relay_edges, wait_for};
use crate::util::skip;
use crate::util::sound::{SoundCard, tone_wav};

/// libfaketime's multi-threaded variant, or None (after saying why).
fn libfaketime(test: &str) -> Option<PathBuf> {
    let found = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/arm-linux-gnueabihf/faketime/libfaketimeMT.so.1",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file());
    if found.is_none() {
        skip::tool_missing(
            test,
            "libfaketime is not installed (apt-get install faketime)",
        );
    }
    found
}

/// One test's station: sim relay, short timings, the commune's zone, and
/// the faked clock's offset file.
struct Station {
    env: TestEnv,
    card: SoundCard,
    commune: Commune,
    offset: PathBuf,
}

impl Station {
    fn new(window_after: Duration) -> Station {
        let commune = Commune::for_window(Duration::from_secs(3600), window_after);
        let env = TestEnv::with_config(&service::service_config(
            Some(commune.zone),
            &format!("{}{}", service::TONE_AUDIO, service::ANY_CLOCK),
        ));
        tone_wav(&env.path("audio/a.wav"), 1000.0, 1.5, 0.5, 48_000);
        let offset = env.path("faketime.rc");
        std::fs::write(&offset, "+0\n").unwrap();
        Station {
            env,
            card: SoundCard::paced(),
            commune,
            offset,
        }
    }

    /// Broadcasts of a.wav at these offsets (seconds from now), in today's
    /// dated playlist, or in default.toml (every day).
    fn playlist(&self, seconds: &[i64], every_day: bool) {
        let times: Vec<String> = seconds.iter().map(|s| self.commune.at(*s).0).collect();
        let b: Vec<(&str, &str, &[&str])> = times
            .iter()
            .map(|t| (t.as_str(), "Tin", &["a.wav"][..]))
            .collect();
        let name = if every_day {
            "default.toml".to_string()
        } else {
            format!("{}.toml", self.commune.today())
        };
        self.env.write_playlist(&name, broadcasts_toml(&b));
    }

    fn start(&self, lib: &Path) -> Service {
        Service::start_with(
            &self.env,
            &self.card,
            &[
                ("LD_PRELOAD", lib.as_os_str()),
                ("FAKETIME_TIMESTAMP_FILE", self.offset.as_os_str()),
                ("FAKETIME_NO_CACHE", OsStr::new("1")),
                ("FAKETIME_DONT_FAKE_MONOTONIC", OsStr::new("1")),
            ],
        )
    }

    /// Moves the service's wall clock: "+150", "+1d", "-1h" from the real
    /// time.
    fn set_offset(&self, offset: &str) {
        let tmp = self.env.path("faketime.rc.tmp");
        std::fs::write(&tmp, format!("{offset}\n")).unwrap();
        std::fs::rename(&tmp, &self.offset).unwrap();
    }

    /// The relay's "on" edges.
    fn ons(&self) -> usize {
        relay_edges(&self.env.path("relay.log"))
            .iter()
            .filter(|(_, on)| *on)
            .count()
    }

    /// `loa log --json` rows of the real day and the next.
    fn rows(&self) -> Vec<Value> {
        let today = self.commune.today();
        let d: jiff::civil::Date = today.parse().unwrap();
        let tomorrow = d.tomorrow().unwrap().to_string();
        let out = self
            .env
            .run(&["log", "--from", &today, "--to", &tomorrow, "--json"]);
        out.code(0);
        out.json().as_array().cloned().unwrap_or_default()
    }

    fn story(&self, svc: &Service) -> String {
        let relay = std::fs::read_to_string(self.env.path("relay.log")).unwrap_or_default();
        format!(
            "--- relay.log ---\n{relay}--- rows ---\n{:#?}\n{}",
            self.rows(),
            svc.output()
        )
    }
}

fn jumped(r: &Value) -> bool {
    r["status"] == "missed"
        && r["error"]
            .as_str()
            .is_some_and(|e| e.contains("the clock jumped forward by"))
}

// Issue 11: a jump forward of 150 s records what it skipped missed, and airs one broadcast once.
#[test]
fn a_jump_of_150_s_misses_what_it_skipped_and_airs_one_once() {
    let Some(lib) = libfaketime("a_jump_of_150_s_misses_what_it_skipped_and_airs_one_once") else {
        return;
    };
    let st = Station::new(Duration::from_secs(300));
    st.playlist(&[40, 70, 100, 130], false);
    let svc = st.start(&lib);
    std::thread::sleep(Duration::from_secs(3));
    st.set_offset("+150");
    // The last one (20 s late, within its grace) airs once; the three
    // before it are missed.
    let rows = wait_for(
        Duration::from_secs(30),
        "three missed rows and one played",
        || st.story(&svc),
        || {
            let rows = st.rows();
            let missed = rows.iter().filter(|r| jumped(r)).count();
            let played = rows.iter().filter(|r| r["status"] == "played").count();
            (missed == 3 && played == 1).then_some(rows)
        },
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(st.rows().len(), rows.len(), "{}", st.story(&svc));
    assert_eq!(st.ons(), 1, "{}", st.story(&svc));
    let played = rows.iter().find(|r| r["status"] == "played").unwrap();
    assert_eq!(played["late"], true, "{played:#}");
}

// Issue 11: a jump forward of a day airs nothing of the day it skipped: no burst.
#[test]
fn a_jump_of_a_day_airs_none_of_the_skipped_day() {
    let Some(lib) = libfaketime("a_jump_of_a_day_airs_none_of_the_skipped_day") else {
        return;
    };
    let st = Station::new(Duration::from_secs(120));
    // Every day: today's two are skipped by the jump; tomorrow's, at the
    // same times, air at their times.
    st.playlist(&[20, 45], true);
    let svc = st.start(&lib);
    std::thread::sleep(Duration::from_secs(3));
    st.set_offset("+1d");
    wait_for(
        Duration::from_secs(15),
        "today's two broadcasts missed by the jump",
        || st.story(&svc),
        || (st.rows().iter().filter(|r| jumped(r)).count() == 2).then_some(()),
    );
    // Nothing aired in a burst: the relay is still off.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(st.ons(), 0, "{}", st.story(&svc));
    // Tomorrow's first airs at its time, once.
    wait_for(
        Duration::from_secs(40),
        "tomorrow's first broadcast to air",
        || st.story(&svc),
        || (st.rows().iter().filter(|r| r["status"] == "played").count() == 1).then_some(()),
    );
    let rows = st.rows();
    assert!(
        rows.iter()
            .filter(|r| r["status"] == "played")
            .all(|r| r["late"] == false),
        "{rows:#?}"
    );
}

// Issue 11: after a jump back of an hour, what aired never airs again.
#[test]
fn a_jump_back_an_hour_airs_nothing_twice() {
    let Some(lib) = libfaketime("a_jump_back_an_hour_airs_nothing_twice") else {
        return;
    };
    let st = Station::new(Duration::from_secs(120));
    st.playlist(&[6], false);
    let svc = st.start(&lib);
    wait_for(
        Duration::from_secs(20),
        "the broadcast to air",
        || st.story(&svc),
        || (st.rows().iter().any(|r| r["status"] == "played")).then_some(()),
    );
    st.set_offset("-1h");
    std::thread::sleep(Duration::from_secs(6));
    // After going back an hour, the broadcast is ahead again: it must not
    // air a second time, neither now nor when its time comes round.
    let status = service::status(&st.env);
    let today: Vec<&Value> = status["today"].as_array().unwrap().iter().collect();
    assert_eq!(today[0]["status"], "aired", "{status:#}");
    assert_eq!(st.ons(), 1, "{}", st.story(&svc));
    st.set_offset("+0");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(st.ons(), 1, "{}", st.story(&svc));
    assert_eq!(
        st.rows().iter().filter(|r| r["status"] == "played").count(),
        1,
        "{}",
        st.story(&svc)
    );
}
