//! Tests of the as-run log: rows written and read back, keys per day, relay
//! edges, reopening, sharing between threads, upgrading an older database,
//! and a `kill -9` mid-write leaving a readable log.

use super::*;

pub(crate) fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn record(file: &str) -> ItemRecord {
    ItemRecord {
        day: jiff::civil::date(2026, 1, 20),
        broadcast_key: "2026-01-20 06:00:00 #0".into(),
        broadcast: Some("Bản tin sáng".into()),
        tags: vec!["dai-hoi".into(), "an-ninh".into()],
        file: file.into(),
        sha256: Some("ab".repeat(32)),
        scheduled: Some(ts("2026-01-20T06:00:00+07:00")),
        started: Some(ts("2026-01-20T06:00:00.012+07:00")),
        ended: Some(ts("2026-01-20T06:01:30.250+07:00")),
        status: Status::Played,
        priority: Priority::Normal,
        error: None,
        clock_synced: true,
        late: false,
        kind: Default::default(),
        aired_ms: None,
        zones: vec![],
    }
}

#[test]
fn a_record_reads_back_as_written() {
    let log = AsRun::in_memory();
    let mut r = record("nhac-hieu.mp3");
    let id = log.record(&r).unwrap();
    r.status = Status::Failed;
    r.priority = Priority::Emergency;
    r.error = Some("card gone".into());
    r.broadcast = None;
    r.tags.clear();
    r.sha256 = None;
    r.started = None;
    r.ended = None;
    r.scheduled = None;
    r.clock_synced = false;
    r.late = true;
    let id2 = log.record(&r).unwrap();
    let rows = log.rows(r.day, r.day).unwrap();
    assert_eq!(rows.len(), 2);
    // The row without a scheduled or start time sorts first.
    assert_eq!(rows[0], Row { id: id2, record: r });
    assert_eq!(rows[1].id, id);
    assert_eq!(rows[1].record, record("nhac-hieu.mp3"));
    assert_eq!(
        log.row(id).unwrap().unwrap().record,
        record("nhac-hieu.mp3")
    );
    assert_eq!(log.row(999).unwrap(), None);
}

#[test]
fn started_then_ended() {
    let log = AsRun::in_memory();
    let mut r = record("a.mp3");
    r.status = Status::Played; // ignored by item_started
    let id = log.item_started(&r).unwrap();
    let row = log.row(id).unwrap().unwrap().record;
    assert_eq!((row.status, row.ended), (Status::Interrupted, None));
    assert_eq!(row.started, r.started);
    let end = ts("2026-01-20T06:01:00+07:00");
    log.item_ended(id, end, Status::Skipped, Some("loa skip"))
        .unwrap();
    let row = log.row(id).unwrap().unwrap().record;
    assert_eq!(row.status, Status::Skipped);
    assert_eq!(row.ended, Some(end));
    assert_eq!(row.error.as_deref(), Some("loa skip"));
    assert!(matches!(
        log.item_ended(id + 1, end, Status::Played, None),
        Err(AsRunError::NoSuchRow { .. })
    ));
}

#[test]
fn attempted_keys_are_per_day() {
    let log = AsRun::in_memory();
    let day = jiff::civil::date(2026, 1, 20);
    assert!(log.attempted(day).unwrap().is_empty());
    let mut r = record("a.mp3");
    log.item_started(&r).unwrap();
    r.broadcast_key = "2026-01-20 18:00:00 #1".into();
    r.status = Status::Missed;
    log.record(&r).unwrap();
    log.record(&r).unwrap();
    r.day = day.tomorrow().unwrap();
    r.broadcast_key = "2026-01-21 06:00:00 #0".into();
    log.record(&r).unwrap();
    let keys = log.attempted(day).unwrap();
    let expected: HashSet<String> = ["2026-01-20 06:00:00 #0", "2026-01-20 18:00:00 #1"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(keys, expected);
    assert_eq!(log.rows(day, day).unwrap().len(), 3);
    assert_eq!(log.rows(day, day.tomorrow().unwrap()).unwrap().len(), 4);
}

#[test]
fn relay_edges_in_order() {
    let log = AsRun::in_memory();
    let on = ts("2026-01-20T05:59:57+07:00");
    let off = ts("2026-01-20T06:05:02.5+07:00");
    log.relay_edge(off, false, "broadcast", None).unwrap();
    log.relay_edge(on, true, "broadcast", Some("thon-1"))
        .unwrap();
    let e = log.edges(on, off).unwrap();
    assert_eq!(
        e,
        vec![
            (
                on,
                true,
                "broadcast".to_string(),
                Some("thon-1".to_string())
            ),
            (off, false, "broadcast".to_string(), None)
        ]
    );
    assert_eq!(log.edges(on, on).unwrap().len(), 1);
}

#[test]
fn the_log_survives_reopening_and_the_error_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    assert!(AsRun::open_existing(&state).unwrap().is_none());
    assert!(!state.exists(), "a reader must not create the state folder");
    let id = AsRun::open(&state)
        .unwrap()
        .item_started(&record("a.mp3"))
        .unwrap();
    let log = AsRun::open_existing(&state).unwrap().unwrap();
    assert_eq!(
        log.row(id).unwrap().unwrap().record.status,
        Status::Interrupted
    );
    let e = AsRunError::from_sql(
        "state/loa.db",
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None),
    );
    assert!(matches!(e, AsRunError::DiskFull { .. }));
    assert!(
        e.message(Lang::Vi).contains("đã đầy"),
        "{}",
        e.message(Lang::Vi)
    );
    assert!(e.message(Lang::En).contains("free space"));
}

#[test]
fn shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AsRun>();
}

// A Pi that ran the foundation has a database with only the media
// index: opening it adds the log, and keeps the index.
#[test]
fn a_database_from_before_the_log_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = Connection::open(dir.path().join(db::FILE_NAME)).unwrap();
        c.execute_batch(
            "CREATE TABLE media (path TEXT PRIMARY KEY, size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL, duration_ms INTEGER, codec TEXT,
                sample_rate INTEGER, channels INTEGER, loudness_lufs REAL,
                true_peak_db REAL, decode_errors INTEGER, error_kind TEXT,
                error_detail TEXT, probed_at TEXT NOT NULL);
             INSERT INTO media (path, size, mtime_ns, duration_ms, codec, probed_at)
                VALUES ('a.mp3', 10, 1, 5000, 'mp3', 'then');
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let log = AsRun::open_existing(dir.path()).unwrap().unwrap();
    let id = log.record(&record("a.mp3")).unwrap();
    assert_eq!(log.row(id).unwrap().unwrap().record, record("a.mp3"));
    let index = crate::media::MediaIndex::open(dir.path()).unwrap();
    // Kept, but without a hash: probed again once.
    let n: i64 = log
        .conn()
        .query_row("SELECT count(*) FROM media WHERE sha256 IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(index.lookup("a.mp3", 10, 1), None);
}

#[test]
fn status_and_priority_names() {
    for s in Status::ALL {
        assert_eq!(Status::parse(s.as_str()), Some(s));
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            serde_json::Value::from(s.as_str())
        );
    }
    for p in Priority::ALL {
        assert_eq!(Priority::parse(p.as_str()), Some(p));
        assert_eq!(
            serde_json::to_value(p).unwrap(),
            serde_json::Value::from(p.as_str())
        );
    }
    assert_eq!(Status::Missed.label(Lang::Vi), "bị lỡ");
    assert_eq!(Status::parse("Played"), None);
}

/// The child of `a_kill_9_leaves_a_readable_log`: writes items forever
/// (started, then ended) until killed. Does nothing when run on its own.
#[test]
#[ignore = "run by a_kill_9_leaves_a_readable_log in a child process"]
fn writer_child() {
    let Some(dir) = std::env::var_os("LOA_ASRUN_CHILD_STATE") else {
        return;
    };
    let log = AsRun::open(Path::new(&dir)).unwrap();
    for n in 0.. {
        let mut r = record(&format!("item-{n}.mp3"));
        r.broadcast_key = format!("2026-01-20 06:00:00 #{n}");
        let id = log.item_started(&r).unwrap();
        log.relay_edge(Timestamp::now(), n % 2 == 0, "test", None)
            .unwrap();
        log.item_ended(id, r.ended.unwrap(), Status::Played, None)
            .unwrap();
    }
}

#[test]
fn a_kill_9_leaves_a_readable_log() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    AsRun::open(&state).unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "asrun::tests::writer_child",
            "--include-ignored",
            "--nocapture",
        ])
        .env("LOA_ASRUN_CHILD_STATE", &state)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let it write a while, then kill it mid-write (SIGKILL).
    let reader = AsRun::open(&state).unwrap();
    let day = jiff::civil::date(2026, 1, 20);
    let t0 = std::time::Instant::now();
    while reader.rows(day, day).unwrap().len() < 200 {
        assert!(t0.elapsed().as_secs() < 60, "the child writes nothing");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(reader);

    let log = AsRun::open(&state).unwrap();
    let ok: String = log
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let rows = log.rows(day, day).unwrap();
    assert!(rows.len() >= 200);
    // Every item but perhaps the last aired fully; the last, if cut
    // off, is honestly "interrupted" with no end.
    let (last, done) = rows.split_last().unwrap();
    assert!(done.iter().all(|r| r.record.status == Status::Played));
    match last.record.status {
        Status::Played => assert!(last.record.ended.is_some()),
        Status::Interrupted => assert_eq!(last.record.ended, None),
        s => panic!("last row {s:?}"),
    }
    assert!(
        !log.edges(Timestamp::MIN, Timestamp::MAX)
            .unwrap()
            .is_empty()
    );
    // And it still takes writes.
    log.record(&record("after.mp3")).unwrap();
}

#[test]
fn syncing_the_files_works_with_and_without_a_wal_and_in_memory() {
    AsRun::in_memory().sync_files().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let log = AsRun::open(&state).unwrap();
    let id = log.item_started(&record("a.mp3")).unwrap();
    log.item_ended(id, ts("2026-01-20T06:01:00+07:00"), Status::Played, None)
        .unwrap();
    assert!(
        state.join("loa.db-wal").exists(),
        "WAL mode keeps a -wal file"
    );
    log.sync_files().unwrap();
    // Without the WAL (as after a clean close), the database alone.
    drop(log);
    std::fs::remove_file(state.join("loa.db-wal")).ok();
    let log = AsRun::open(&state).unwrap();
    log.sync_files().unwrap();
    assert_eq!(log.row(id).unwrap().unwrap().record.status, Status::Played);
}
