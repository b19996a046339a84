//! `loa log` and `loa report` (issue 4, "The as-run log and reports"): a
//! state database is written through the library's `AsRun`, as the daemon
//! writes it, then the real program shows it: the JSON fields with the
//! commune's offset, the operator's table in Vietnamese by default, the
//! report's headings and totals, and the exit codes for bad input.

use jiff::Timestamp;
use jiff::civil::{Date, date};
use loa::asrun::{AsRun, ItemRecord, Priority, Status};

use crate::util::{DEFAULT_CONFIG, TestEnv, instant, text};

/// The default config in Vietnamese: no `language` line at all.
fn vietnamese() -> String {
    DEFAULT_CONFIG.replace("language = \"en\"\n", "")
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// An item of the broadcast at `hhmm` on `day`, played from `start` to
/// `end` (local times).
fn played(day: Date, hhmm: &str, file: &str, start: &str, end: &str) -> ItemRecord {
    let at = |hms: &str| t(&format!("{day}T{hms}+07:00"));
    ItemRecord {
        day,
        broadcast_key: format!("{day} {hhmm}:00 #0"),
        broadcast: Some("Bản tin sáng".into()),
        tags: vec!["dai-hoi".into()],
        file: file.into(),
        sha256: Some(SHA.into()),
        scheduled: Some(at(start)),
        started: Some(at(start)),
        ended: Some(at(end)),
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

/// Writes, for 2026-01-20: a morning broadcast of two items played (90 s
/// and 60.5 s, the second started 12 ms late), an evening broadcast missed,
/// a failed item of another broadcast and an item cut off by a power cut
/// (started, never ended); for 2026-01-21: one item played (30 s), tagged
/// "sau-dai-hoi". And two relay edges.
fn fill(env: &TestEnv) {
    let log = AsRun::open(&env.path("state")).unwrap();
    let d20 = date(2026, 1, 20);
    log.record(&played(
        d20,
        "06:00",
        "nhac-hieu.mp3",
        "06:00:00",
        "06:01:30",
    ))
    .unwrap();
    let mut second = played(
        d20,
        "06:00",
        "dai-hoi/ban-tin-1.mp3",
        "06:01:32",
        "06:02:32.5",
    );
    second.started = Some(t("2026-01-20T06:01:32.012+07:00"));
    second.late = true;
    let id = log.item_started(&second).unwrap();
    log.item_ended(id, second.ended.unwrap(), Status::Played, None)
        .unwrap();
    log.record(&ItemRecord {
        broadcast_key: "2026-01-20 18:00:00 #1".into(),
        broadcast: Some("Bản tin chiều".into()),
        scheduled: Some(t("2026-01-20T18:00:00+07:00")),
        started: None,
        ended: None,
        sha256: None,
        status: Status::Missed,
        error: Some("loa không chạy lúc 18:00".into()),
        ..played(d20, "18:00", "thong-bao-chung.mp3", "18:00:00", "18:00:00")
    })
    .unwrap();
    log.record(&ItemRecord {
        broadcast_key: "2026-01-20 11:00:00 #2".into(),
        broadcast: None,
        tags: vec![],
        started: None,
        ended: None,
        status: Status::Failed,
        priority: Priority::Priority,
        error: Some("sound card unplugged".into()),
        ..played(d20, "11:00", "ket-thuc.mp3", "11:00:00", "11:00:00")
    })
    .unwrap();
    let mut cut = played(d20, "12:00", "ket-thuc.mp3", "12:00:00", "12:00:00");
    cut.broadcast_key = "2026-01-20 12:00:00 #3".into();
    cut.priority = Priority::Emergency;
    log.item_started(&cut).unwrap();
    let d21 = date(2026, 1, 21);
    let mut next = played(d21, "06:00", "nhac-hieu.mp3", "06:00:00", "06:00:30");
    next.tags = vec!["sau-dai-hoi".into()];
    log.record(&next).unwrap();
    log.relay_edge(t("2026-01-20T05:59:57+07:00"), true, "broadcast", None)
        .unwrap();
    log.relay_edge(t("2026-01-20T06:02:35+07:00"), false, "broadcast", None)
        .unwrap();
}

// Issue 4: `loa log --json` has the documented fields, times in the commune's offset.
#[test]
fn log_json_has_the_fields_and_the_communes_offset() {
    let env = TestEnv::new();
    fill(&env);
    let out = env.run(&["log", "--date", "2026-01-20", "--json"]);
    out.code(0);
    let v = out.json();
    let rows = v.as_array().expect("an array");
    assert_eq!(rows.len(), 5, "{v:#}");
    // In order of time: 06:00:00, 06:01:32, 11:00, 12:00, 18:00.
    let files: Vec<&str> = rows.iter().map(|r| text(r, "file")).collect();
    assert_eq!(
        files,
        [
            "nhac-hieu.mp3",
            "dai-hoi/ban-tin-1.mp3",
            "ket-thuc.mp3",
            "ket-thuc.mp3",
            "thong-bao-chung.mp3"
        ]
    );
    let first = &rows[0];
    for key in [
        "broadcast",
        "file",
        "sha256",
        "scheduled",
        "started",
        "ended",
        "status",
        "priority",
        "error",
        "day",
        "tags",
        "late",
        "clock_synced",
    ] {
        assert!(first.get(key).is_some(), "no {key:?} in {first:#}");
    }
    assert_eq!(text(first, "broadcast"), "Bản tin sáng");
    assert_eq!(text(first, "sha256"), SHA);
    assert_eq!(text(first, "scheduled"), "2026-01-20T06:00:00+07:00");
    assert_eq!(text(first, "started"), "2026-01-20T06:00:00+07:00");
    assert_eq!(text(first, "ended"), "2026-01-20T06:01:30+07:00");
    assert_eq!(text(first, "status"), "played");
    assert_eq!(text(first, "priority"), "normal");
    assert_eq!(text(first, "day"), "2026-01-20");
    assert!(first["error"].is_null());
    assert_eq!(first["tags"], serde_json::json!(["dai-hoi"]));
    assert_eq!(first["late"], false);
    assert_eq!(first["clock_synced"], true);
    // Milliseconds only where there are some.
    let second = &rows[1];
    assert_eq!(text(second, "started"), "2026-01-20T06:01:32.012+07:00");
    assert_eq!(text(second, "ended"), "2026-01-20T06:02:32.500+07:00");
    assert_eq!(second["late"], true);
    assert_eq!(
        instant(second, "ended"),
        t("2026-01-20T06:02:32.5+07:00"),
        "the same instant"
    );
    // A failed item never started: nulls, and the reason.
    let failed = &rows[2];
    assert_eq!(text(failed, "status"), "failed");
    assert_eq!(text(failed, "priority"), "priority");
    assert_eq!(text(failed, "error"), "sound card unplugged");
    assert!(failed["started"].is_null() && failed["ended"].is_null());
    assert!(failed["broadcast"].is_null());
    // Cut off by a power cut: started, "interrupted", no end.
    let cut = &rows[3];
    assert_eq!(text(cut, "status"), "interrupted");
    assert_eq!(text(cut, "priority"), "emergency");
    assert_eq!(text(cut, "started"), "2026-01-20T12:00:00+07:00");
    assert!(cut["ended"].is_null());
    let missed = &rows[4];
    assert_eq!(text(missed, "status"), "missed");
    assert!(missed["sha256"].is_null() && missed["started"].is_null());
    assert_eq!(text(missed, "scheduled"), "2026-01-20T18:00:00+07:00");
}

// Issue 4: `loa log` of a range of days names each day; without a date it is today's.
#[test]
fn log_of_a_range_and_of_today() {
    let env = TestEnv::new();
    fill(&env);
    let out = env.run(&[
        "log",
        "--from",
        "2026-01-20",
        "--to",
        "2026-01-21",
        "--json",
    ]);
    out.code(0);
    let v = out.json();
    let days: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| text(r, "day"))
        .collect();
    assert_eq!(days.len(), 6, "{v:#}");
    assert_eq!(days[5], "2026-01-21");
    // The table of a range names each day.
    let out = env.run(&["log", "--from", "2026-01-20", "--to", "2026-01-21"]);
    out.code(0);
    out.says("As-run log from 2026-01-20 to 2026-01-21 (Asia/Ho_Chi_Minh time)");
    out.says("Tuesday 2026-01-20");
    out.says("Wednesday 2026-01-21");
    // Without a date: today in the commune's zone.
    let today = Timestamp::now().in_tz("Asia/Ho_Chi_Minh").unwrap().date();
    AsRun::open(&env.path("state"))
        .unwrap()
        .record(&played(
            today,
            "07:00",
            "hom-nay.mp3",
            "07:00:00",
            "07:00:10",
        ))
        .unwrap();
    let v = env.run(&["log", "--json"]).code(0).json();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v:#}");
    assert_eq!(text(&rows[0], "file"), "hom-nay.mp3");
}

/// The row of the table that holds all of `cells`.
fn row<'a>(out: &'a crate::util::Output, cells: &[&str]) -> &'a str {
    out.stdout
        .lines()
        .find(|l| cells.iter().all(|c| l.contains(c)))
        .unwrap_or_else(|| panic!("no row with {cells:?}\n{out}"))
}

// Issue 4: `loa log`'s table is in Vietnamese when the config names no language.
#[test]
fn log_table_in_vietnamese_by_default() {
    let env = TestEnv::with_config(&vietnamese());
    fill(&env);
    let out = env.run(&["log", "--date", "2026-01-20"]);
    out.code(0);
    out.says("Nhật ký phát Thứ Ba 20/01/2026 (giờ Asia/Ho_Chi_Minh)");
    for h in ["Giờ", "Buổi phát", "Tệp", "Tình trạng", "Ưu tiên", "Lỗi"] {
        out.says(h);
    }
    row(
        &out,
        &[
            "06:00:00",
            "Bản tin sáng",
            "nhac-hieu.mp3",
            "1:30",
            "đã phát",
            "thường",
        ],
    );
    row(
        &out,
        &["06:01:32", "dai-hoi/ban-tin-1.mp3", "đã phát, muộn"],
    );
    row(
        &out,
        &[
            "11:00:00",
            "ket-thuc.mp3",
            "lỗi",
            "ưu tiên",
            "sound card unplugged",
        ],
    );
    row(
        &out,
        &[
            "12:00:00",
            "ket-thuc.mp3",
            "bị ngắt",
            "khẩn cấp",
            "chưa ghi giờ kết thúc",
        ],
    );
    row(
        &out,
        &[
            "18:00:00",
            "Bản tin chiều",
            "bị lỡ",
            "loa không chạy lúc 18:00",
        ],
    );
    // The columns line up: each file starts at the same column.
    let col = |file: &str| {
        let l = row(&out, &[file]);
        l[..l.find(file).unwrap()].chars().count()
    };
    assert_eq!(col("nhac-hieu.mp3"), col("thong-bao-chung.mp3"), "{out}");
    // An empty day says so.
    let out = env.run(&["log", "--date", "2026-01-25"]);
    out.code(0);
    out.says("Nhật ký phát không có gì trong khoảng thời gian này");
}

// Issue 4: `loa log` before loa has aired anything says it is empty, and creates no state.
#[test]
fn log_without_a_state_database_is_empty() {
    let env = TestEnv::new();
    let out = env.run(&["log", "--date", "2026-01-20", "--json"]);
    out.code(0);
    assert_eq!(out.json(), serde_json::json!([]));
    let out = env.run(&["log", "--date", "2026-01-20"]);
    out.code(0);
    out.says("The as-run log is empty: loa has not aired anything yet");
    assert!(!env.path("state").exists(), "reading must not create state");
}

// Issue 4: `loa log` refuses a date that does not exist or a reversed range, exit code 2.
#[test]
fn log_rejects_bad_dates_with_exit_2() {
    let env = TestEnv::new();
    fill(&env);
    let out = env.run(&["log", "--date", "2026-02-30"]);
    out.code(2);
    assert!(
        out.stderr
            .contains("--date \"2026-02-30\" is not a real date; write YEAR-MONTH-DAY"),
        "{out}"
    );
    let out = env.run(&["log", "--from", "2026-01-21", "--to", "2026-01-20"]);
    out.code(2);
    assert!(
        out.stderr
            .contains("--from 2026-01-21 is after --to 2026-01-20"),
        "{out}"
    );
    let out = env.run(&["log", "--from", "20/01/2026", "--to", "2026-01-21"]);
    out.code(2);
    assert!(out.stderr.contains("--from \"20/01/2026\""), "{out}");
    // A broken config: exit 2, as for every command.
    env.write_config("language = \"en\"\n[paths\n");
    env.run(&["log", "--date", "2026-01-20"]).code(2);
}

// Issue 4, as issue 14 shapes it: `loa report` in Markdown, Vietnamese
// headings, totals by day and by phase, what was missed or failed.
#[test]
fn report_in_markdown_with_vietnamese_headings() {
    let env = TestEnv::with_config(&vietnamese());
    fill(&env);
    let out = env.run(&["report", "--from", "2026-01-19", "--to", "2026-01-21"]);
    out.code(0);
    out.says("# BÁO CÁO");
    out.says("**Kết quả phát thanh từ ngày 19/01/2026 đến ngày 21/01/2026**");
    out.says("## 1. Theo ngày");
    out.says("## 2. Theo giai đoạn tuyên truyền");
    out.says("## 4. Các buổi có bản tin bị lỡ hoặc lỗi");
    // Scheduled, aired, bulletins (the jingle is not one), time on air,
    // missed, failed, cut off, skipped. The 20th: 90 s + 60.488 s.
    out.says("**Đã phát 2/3 buổi theo lịch (66,7%).** 1 bản tin, tổng thời lượng phát 3 phút.");
    out.says("| Thứ Hai 19/01/2026 | 0 | 0 | 0 | 0 giây | 0 | 0 | 0 | 0 |");
    out.says("| Thứ Ba 20/01/2026 | 2 | 1 | 1 | 2 phút 30 giây | 1 | 1 | 1 | 0 |");
    out.says("| Thứ Tư 21/01/2026 | 1 | 1 | 0 | 30 giây | 0 | 0 | 0 | 0 |");
    out.says(
        "| **Tổng cộng** | **3** | **2** | **1** | **3 phút** | **1** | **1** | **1** | **0** |",
    );
    out.says("| Dai hoi | 1/2 | 1 | 2 phút 30 giây |");
    out.says("| Sau dai hoi | 1/1 | 0 | 30 giây |");
    out.says("- 20/01/2026 12:00:00: ket-thuc.mp3 (bị ngắt, 0 giây)");
    out.says("**20/01/2026 11:00 – Phát ưu tiên**\n\n- ket-thuc.mp3: lỗi. sound card unplugged");
    out.says("**20/01/2026 18:00 – Bản tin chiều**\n\n- thong-bao-chung.mp3: bị lỡ. Máy không hoạt động vào giờ phát (quá 10 phút cho phép phát bù)");
    out.says("| dai-hoi/ban-tin-1 | 1 | 1 phút |");
}

// Issue 4, as issue 14 shapes it: `loa report --format csv`: a BOM, the
// same totals and the missed or failed items, CRLF.
#[test]
fn report_in_csv() {
    let env = TestEnv::new();
    fill(&env);
    let out = env.run(&[
        "report",
        "--from",
        "2026-01-20",
        "--to",
        "2026-01-21",
        "--format",
        "csv",
    ]);
    out.code(0);
    let text = out.stdout.strip_prefix('\u{feff}').expect("a BOM");
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[..7],
        [
            "kind,date,tag,broadcasts,items_aired,minutes_aired,seconds_aired,missed,failed,interrupted,skipped,time,broadcast,file,status,reason,scheduled_broadcasts,scheduled_aired,bulletins,minutes_scheduled,minutes_relayed,phase",
            "day,2026-01-20,,1,2,2.5,150,1,1,1,0,,,,,,2,1,1,2.5,0.0,",
            "day,2026-01-21,,1,1,0.5,30,0,0,0,0,,,,,,1,1,0,0.5,0.0,",
            "total,,,2,3,3.0,180,1,1,1,0,,,,,,3,2,1,3.0,0.0,",
            "tag,,dai-hoi,1,2,2.5,150,1,0,1,0,,,,,,2,1,1,2.5,0.0,Dai hoi",
            "tag,,sau-dai-hoi,1,1,0.5,30,0,0,0,0,,,,,,1,1,0,0.5,0.0,Sau dai hoi",
            "tag,,,0,0,0.0,0,0,1,0,0,,,,,,0,0,0,0.0,0.0,(no phase)",
        ],
        "{out}"
    );
    assert_eq!(
        lines[7..],
        [
            "item,2026-01-20,,,,,,,,,,11:00:00,Priority item,ket-thuc.mp3,failed,sound card unplugged,,,,,,",
            "item,2026-01-20,,,,,,,,,,18:00:00,Bản tin chiều,thong-bao-chung.mp3,missed,The box was not running at the broadcast's time (more than the 10 min allowed for a late start),,,,,,",
            "",
        ],
        "{out}"
    );
}

// Issue 4: `loa report` refuses an unknown format or a reversed range, exit code 2.
#[test]
fn report_rejects_bad_input_with_exit_2() {
    let env = TestEnv::new();
    let out = env.run(&[
        "report",
        "--from",
        "2026-01-20",
        "--to",
        "2026-01-21",
        "--format",
        "pdf",
    ]);
    out.code(2);
    assert!(
        out.stderr.contains("\"pdf\"") && out.stderr.contains("md (Markdown) or csv"),
        "{out}"
    );
    assert!(out.stderr.contains("docx (Word), xlsx (Excel)"), "{out}");
    let out = env.run(&["report", "--from", "2026-01-22", "--to", "2026-01-21"]);
    out.code(2);
    assert!(out.stderr.contains("is after --to"), "{out}");
    env.run(&["report", "--from", "2026-13-01", "--to", "2026-01-21"])
        .code(2);
    // No state database yet: a report of zeros, and a note.
    let out = env.run(&["report", "--from", "2026-01-20", "--to", "2026-01-20"]);
    out.code(0);
    out.says("| **Total** | **0** | **0** | **0** | **0 s** |");
    assert!(out.stderr.contains("has not aired anything"), "{out}");
}

// Issue 10: with require-clock-sync = false (a box with a battery clock),
// the kernel's "not synchronised" is the normal state: rows keep it as it
// is, but `loa log` does not stamp every row with it, and the report says
// what the setting was.
#[test]
fn a_battery_clock_box_is_not_stamped_unsynchronised_on_every_row() {
    let env = crate::util::TestEnv::with_config(
        "language = \"en\"\n[paths]\naudio = \"../audio\"\nplaylists = \"../playlists\"\nstate = \"../state\"\n[relay]\nwarm-up = \"0s\"\nhold = \"0s\"\n[schedule]\nrequire-clock-sync = false\n",
    );
    crate::util::sound::tone_wav(&env.path("audio/a.wav"), 1000.0, 1.0, 0.5, 48_000);
    let card = crate::util::sound::SoundCard::unpaced();
    let svc = crate::util::service::Service::start(&env, &card);
    env.run(&["now", "a.wav"]).code(0);
    let today = crate::util::service::status(&env)["now"].as_str().unwrap()[..10].to_string();
    crate::util::service::wait_for(
        std::time::Duration::from_secs(20),
        "the emergency to be logged",
        || svc.output(),
        || {
            let rows = crate::util::service::log(&env, &today);
            rows.iter().any(|r| r["status"] == "played").then_some(rows)
        },
    );
    let table = env.run(&["log", "--date", &today]);
    assert!(!table.stdout.contains("clock not synced"), "{table}");
    let report = env.run(&["report", "--from", &today, "--to", &today]);
    assert!(
        report.stdout.contains("require-clock-sync = false"),
        "{report}"
    );
}
