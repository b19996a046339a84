//! `loa report` in the four forms an official gets (issue 14): a simulated
//! month of as-run rows, written as the service writes them, against the
//! playlist's schedule; the Word document read back with python-docx, the
//! workbook with openpyxl, the CSV's bytes, the Markdown's text; all must
//! agree with the rows.

use std::path::Path;
use std::process::Command;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use loa::asrun::{AsRun, ItemRecord, Priority, Status};

use crate::util::skip;
use crate::util::{DEFAULT_CONFIG, TestEnv};

/// A commune name with every Vietnamese diacritic: the five tones on the
/// plain, breve, circumflex and horn vowels, and đ.
const COMMUNE: &str = "Xã Đàn Ắm Ẳng Ẵn Ặc Ấy Ầu Ẩn Ẫu Ậy Ể Ễ Ệ Ề Ế Ỉ Ĩ Ị Ò Ó Ỏ Õ Ọ Ớ Ờ Ở Ỡ Ợ Ú Ù Ủ Ũ Ụ Ứ Ừ Ử Ữ Ự Ý Ỳ Ỷ Ỹ Ỵ ă â đ ê ô ơ ư";

fn config() -> String {
    format!(
        "{}\n[station]\nname = \"Đài truyền thanh xã Ẩn Ưng\"\ncommune = \"{COMMUNE}\"\nprovince = \"Tỉnh Quảng Trị\"\nreporter = \"Nguyễn Thị Hoà\"\nhead = \"Trần Văn Nam\"\n",
        DEFAULT_CONFIG.replace("language = \"en\"\n", "")
    )
}

const PLAYLIST: &str = r#"
[tags]
truoc-dai-hoi = "Trước Đại hội"

[[broadcast]]
at = "06:00"
title = "Bản tin sáng"
items = ["nhac-hieu.mp3", "dai-hoi/ban-tin-1.mp3"]
tags = ["truoc-dai-hoi"]

[[broadcast]]
at = "17:00"
title = "Bản tin chiều"
items = ["dai-hoi/ban-tin-2.mp3"]
"#;

fn tz() -> TimeZone {
    TimeZone::get("Asia/Ho_Chi_Minh").unwrap()
}

fn today() -> Date {
    tz().to_offset(Timestamp::now())
        .to_datetime(Timestamp::now())
        .date()
}

/// Last month, whole: (first day, last day).
fn last_month() -> (Date, Date) {
    let first = today().first_of_month() - 1.month();
    (first, first.last_of_month())
}

fn at(day: Date, hms: &str, secs: i64) -> Timestamp {
    let t = tz()
        .to_ambiguous_timestamp(day.at(0, 0, 0, 0))
        .compatible()
        .unwrap();
    let (h, m, s) = (&hms[0..2], &hms[3..5], &hms[6..8]);
    let off: i64 = h.parse::<i64>().unwrap() * 3600
        + m.parse::<i64>().unwrap() * 60
        + s.parse::<i64>().unwrap()
        + secs;
    Timestamp::from_second(t.as_second() + off).unwrap()
}

/// One row of broadcast `index` (06:00 → 0, 17:00 → 1) on `day`.
fn row(day: Date, index: usize, file: &str, offset: i64, secs: i64, status: Status) -> ItemRecord {
    let hms = if index == 0 { "06:00:00" } else { "17:00:00" };
    let aired = matches!(status, Status::Played | Status::Interrupted);
    ItemRecord {
        day,
        broadcast_key: format!("{day} {hms} #{index}"),
        broadcast: Some(
            if index == 0 {
                "Bản tin sáng"
            } else {
                "Bản tin chiều"
            }
            .into(),
        ),
        tags: if index == 0 {
            vec!["truoc-dai-hoi".into()]
        } else {
            vec![]
        },
        file: file.into(),
        sha256: None,
        scheduled: Some(at(day, hms, offset)),
        started: aired.then(|| at(day, hms, offset)),
        ended: aired.then(|| at(day, hms, offset + secs)),
        status,
        priority: Priority::Normal,
        error: match status {
            Status::Missed => Some("loa không chạy".into()),
            Status::Failed => Some("tệp hỏng: không giải mã được".into()),
            _ => None,
        },
        clock_synced: true,
        late: false,
        kind: Default::default(),
        aired_ms: None,
        zones: vec![],
    }
}

/// What the month holds, for the assertions.
struct Month {
    from: Date,
    to: Date,
    days: i64,
    /// Seconds on air.
    aired_s: i64,
}

/// Last month's as-run log: every day both broadcasts played (30 s
/// jingle + 90 s bulletin; 120 s bulletin), except: the 5th's morning
/// missed (two rows), the 12th's evening failed, the 20th an emergency
/// (45 s), the 25th's morning a 10-minute relay after the jingle, the
/// 28th's morning nothing at all (a power cut). The service first ran on
/// the 1st. No row names a zone.
fn month(env: &TestEnv) -> Month {
    env.write_playlist("default.toml", PLAYLIST);
    month_to(env, &|_| vec![])
}

/// [`month`], each row naming the zones `zones` gives it.
fn month_to(env: &TestEnv, zones: &dyn Fn(&ItemRecord) -> Vec<String>) -> Month {
    env.audio("nhac-hieu.mp3");
    env.audio("dai-hoi/ban-tin-1.mp3");
    env.audio("dai-hoi/ban-tin-2.mp3");
    let (from, to) = last_month();
    let log = AsRun::open(&env.path("state")).unwrap();
    log.first_start(at(from, "00:00:00", 0)).unwrap();
    let log = |r: ItemRecord| {
        log.record(&ItemRecord {
            zones: zones(&r),
            ..r
        })
    };
    let mut aired_s = 0;
    let mut d = from;
    while d <= to {
        match d.day() {
            5 => {
                log(row(d, 0, "nhac-hieu.mp3", 0, 30, Status::Missed)).unwrap();
                log(row(d, 0, "dai-hoi/ban-tin-1.mp3", 30, 90, Status::Missed)).unwrap();
            }
            25 => {
                log(row(d, 0, "nhac-hieu.mp3", 0, 30, Status::Played)).unwrap();
                let vov = "http://radio.example.vn:8000/vov1";
                log(row(d, 0, vov, 30, 600, Status::Played)).unwrap();
                aired_s += 630;
            }
            28 => {}
            _ => {
                log(row(d, 0, "nhac-hieu.mp3", 0, 30, Status::Played)).unwrap();
                log(row(d, 0, "dai-hoi/ban-tin-1.mp3", 30, 90, Status::Played)).unwrap();
                aired_s += 120;
            }
        }
        if d.day() == 12 {
            log(row(d, 1, "dai-hoi/ban-tin-2.mp3", 0, 120, Status::Failed)).unwrap();
        } else {
            log(row(d, 1, "dai-hoi/ban-tin-2.mp3", 0, 120, Status::Played)).unwrap();
            aired_s += 120;
        }
        if d.day() == 20 {
            log(ItemRecord {
                broadcast_key: format!("{d} now 10:15:00"),
                broadcast: None,
                tags: vec![],
                file: "khan-cap/bao-lu.mp3".into(),
                scheduled: None,
                priority: Priority::Emergency,
                ..row(d, 1, "x", 0, 45, Status::Played)
            })
            .unwrap();
            aired_s += 45;
        }
        d = d.tomorrow().unwrap();
    }
    Month {
        from,
        to,
        days: i64::from(to.day()),
        aired_s,
    }
}

/// The Python that can import `module`: `python3` on the PATH, else
/// Debian's (where apt installs python3-docx and python3-openpyxl, when the
/// PATH's is another, such as pyenv's).
fn python_with(module: &str) -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Runs a Python snippet with `arg`; None (and a skip, or a failure under
/// CI) when the module is missing.
fn python(test: &str, module: &str, package: &str, script: &str, arg: &Path) -> Option<String> {
    let Some(py) = python_with(module) else {
        skip::tool_missing(
            test,
            &format!("python3 cannot import {module} (apt package {package})"),
        );
        return None;
    };
    let out = Command::new(py)
        .args(["-c", script])
        .arg(arg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

fn args<'a>(m: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = m.iter().map(String::as_str).collect();
    v.extend_from_slice(more);
    v
}

fn range(m: &Month) -> Vec<String> {
    vec![
        "report".into(),
        "--from".into(),
        m.from.to_string(),
        "--to".into(),
        m.to.to_string(),
    ]
}

// Issue 14: the Markdown says what the official's document says: the
// headline against the schedule, phases by name, lengths in minutes and
// seconds, the missed and failed grouped per broadcast, the signatures.
#[test]
fn the_markdown_report_of_a_month() {
    let env = TestEnv::with_config(&config());
    let m = month(&env);
    let out = env.run(&range(&m).iter().map(String::as_str).collect::<Vec<_>>());
    out.code(0);
    let planned = 2 * m.days;
    let aired = planned - 3;
    out.says(&format!("Đã phát {aired}/{planned} buổi theo lịch ("));
    out.says("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    out.says(&format!(
        "{}, ngày {:02} tháng {:02} năm {}",
        COMMUNE.trim_start_matches("Xã "),
        today().day(),
        today().month(),
        today().year()
    ));
    out.says(&format!(
        "tổng thời lượng phát {} phút {} giây",
        m.aired_s / 60,
        m.aired_s % 60
    ));
    out.says("trong đó tiếp sóng 10 phút");
    out.says("| Trước Đại hội |");
    out.says("| khẩn cấp | 1 | 1 | 45 giây |");
    out.says("khan-cap/bao-lu.mp3 (đã phát, 45 giây)");
    out.says(&format!(
        "**05/{:02}/{} 06:00 – Bản tin sáng**",
        m.from.month(),
        m.from.year()
    ));
    out.says("- nhac-hieu.mp3, dai-hoi/ban-tin-1.mp3: bị lỡ. Máy không hoạt động vào giờ phát (quá 10 phút cho phép phát bù)");
    out.says("- dai-hoi/ban-tin-2.mp3: lỗi. tệp hỏng: không giải mã được");
    out.says("nhật ký phát không ghi gì về buổi này");
    out.says("**NGƯỜI LẬP BIỂU**");
    out.says("Nguyễn Thị Hoà");
    assert!(!out.stdout.contains("truoc-dai-hoi"), "no raw tag: {out}");
    assert!(
        !out.stdout.contains("| nhac-hieu |"),
        "jingles are not bulletins: {out}"
    );
    assert!(!out.stdout.contains("thôn/vùng"), "no zones: {out}");
}

// Issue 14: the CSV opens right in Excel (a BOM), with ',' or ';', and its
// figures are the rows'.
#[test]
fn the_csv_has_a_bom_and_the_rows_figures() {
    let env = TestEnv::with_config(&config());
    let m = month(&env);
    let r = range(&m);
    let out = env.run(&args(&r, &["--format", "csv"]));
    out.code(0);
    assert!(out.stdout.starts_with('\u{feff}'), "no BOM: {out}");
    let lines: Vec<&str> = out
        .stdout
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .collect();
    let total = lines
        .iter()
        .find(|l| l.starts_with("tổng cộng,"))
        .expect("a total row");
    let f: Vec<&str> = total.split(',').collect();
    assert_eq!(f[6], m.aired_s.to_string(), "{total}");
    assert_eq!(f[16], (2 * m.days).to_string(), "{total}");
    assert_eq!(f[17], (2 * m.days - 3).to_string(), "{total}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("ngày,")).count() as i64,
        m.days
    );
    let out = env.run(&args(&r, &["--format", "csv", "--separator", ";"]));
    out.code(0);
    let header = out
        .stdout
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap();
    assert_eq!(header.split(';').count(), 22, "no zone columns: {header}");
    // Into a file: the same bytes.
    let file = env.path("bao-cao.csv");
    env.run(&args(
        &r,
        &["--format", "csv", "--out", file.to_str().unwrap()],
    ))
    .code(0)
    .says("bao-cao.csv");
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf");
}

const READ_DOCX: &str = r#"
import sys, json, docx
d = docx.Document(sys.argv[1])
text = [p.text for p in d.paragraphs]
for t in d.tables:
    for r in t.rows:
        text.append(" | ".join(c.text for c in r.cells))
print(json.dumps({"text": "\n".join(text), "images": len(d.inline_shapes)}))
"#;

// Issue 14: the Word document, read back by python-docx: the national
// header, the station, the place and date, the title, the headline, the
// phases by name, the emergencies, the problems, the chart, the signatures.
#[test]
fn the_word_document_read_back_with_python_docx() {
    let env = TestEnv::with_config(&config());
    let m = month(&env);
    let file = env.path("thang.docx");
    let r = range(&m);
    let out = env.run(&args(
        &r,
        &["--format", "docx", "--out", file.to_str().unwrap()],
    ));
    out.code(0);
    out.says("thang.docx");
    let Some(json) = python(
        "the_word_document",
        "docx",
        "python3-docx",
        READ_DOCX,
        &file,
    ) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let text = v["text"].as_str().unwrap();
    let planned = 2 * m.days;
    for want in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".to_string(),
        "Độc lập - Tự do - Hạnh phúc".into(),
        "ĐÀI TRUYỀN THANH XÃ ẨN ƯNG".into(),
        format!("{}, ngày", COMMUNE.trim_start_matches("Xã ")),
        "BÁO CÁO".into(),
        format!(
            "Kết quả phát thanh từ ngày {} đến ngày {}",
            m.from.strftime("%d/%m/%Y"),
            m.to.strftime("%d/%m/%Y")
        ),
        format!("Đã phát {}/{planned} buổi theo lịch", planned - 3),
        "Trước Đại hội".into(),
        "khan-cap/bao-lu.mp3".into(),
        "tệp hỏng: không giải mã được".into(),
        "NGƯỜI LẬP BIỂU".into(),
        "THỦ TRƯỞNG ĐƠN VỊ".into(),
        "Nguyễn Thị Hoà".into(),
        "Trần Văn Nam".into(),
    ] {
        assert!(
            text.contains(&want),
            "{want:?} not in the document:\n{text}"
        );
    }
    assert!(!text.contains("truoc-dai-hoi"), "a raw tag in:\n{text}");
    assert!(v["images"].as_u64().unwrap() >= 1, "no chart: {json}");
}

const READ_XLSX: &str = r#"
import sys, json, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {"sheets": wb.sheetnames, "charts": sum(len(ws._charts) for ws in wb.worksheets)}
per_day = wb.worksheets[1]
rows = list(per_day.iter_rows(values_only=True))
out["header"] = [str(c) for c in rows[0]]
days = [r for r in rows[1:] if isinstance(r[0], datetime.datetime)]
out["dates"] = [r[0].date().isoformat() for r in days]
out["minutes"] = [r[4] for r in days]
out["numbers"] = all(isinstance(r[4], (int, float)) for r in days)
items = wb.worksheets[2]
out["items"] = items.max_row - 1
print(json.dumps(out))
"#;

// Issue 14: the workbook, read back by openpyxl: the sheets, real dates,
// minutes as numbers that add up to the rows', one line per as-run row,
// a native chart.
#[test]
fn the_workbook_read_back_with_openpyxl() {
    let env = TestEnv::with_config(&config());
    let m = month(&env);
    let file = env.path("thang.xlsx");
    let r = range(&m);
    env.run(&args(
        &r,
        &["--format", "xlsx", "--out", file.to_str().unwrap()],
    ))
    .code(0);
    let Some(json) = python(
        "the_workbook",
        "openpyxl",
        "python3-openpyxl",
        READ_XLSX,
        &file,
    ) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["charts"].as_u64().unwrap() >= 1, "no chart: {json}");
    let dates: Vec<&str> = v["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(dates.len() as i64, m.days, "{json}");
    assert_eq!(dates[0], m.from.to_string());
    assert!(
        v["numbers"].as_bool().unwrap(),
        "minutes as numbers: {json}"
    );
    let minutes: f64 = v["minutes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .sum();
    assert!(
        (minutes - m.aired_s as f64 / 60.0).abs() < 0.05 * m.days as f64 / 60.0 + 0.01,
        "{minutes} minutes, the rows say {} s",
        m.aired_s
    );
    let rows_in_log = 2 * (m.days - 1) + 1 + m.days;
    assert_eq!(v["items"].as_i64().unwrap(), rows_in_log, "{json}");
}

// Issue 14: docx and xlsx without --out are written in the current folder
// as bao-cao-FROM_TO, and loa says where.
#[test]
fn without_out_the_file_goes_to_the_current_folder() {
    let env = TestEnv::with_config(&config());
    let m = month(&env);
    let dir = env.path("here");
    std::fs::create_dir_all(&dir).unwrap();
    for ext in ["docx", "xlsx"] {
        let r = range(&m);
        let out = env
            .loa()
            .args(&args(&r, &["--format", ext]))
            .current_dir(&dir)
            .run();
        out.code(0);
        let name = format!("bao-cao-{}_{}.{ext}", m.from, m.to);
        out.says(&name);
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        assert_eq!(&bytes[..2], b"PK", "{name} is a zip");
    }
}

// Issue 14: days after today are not shown as zeros; a period with no data
// still makes every form.
#[test]
fn future_days_and_a_period_with_no_data() {
    let env = TestEnv::with_config(&config());
    let yesterday = today() - 1.day();
    let later = today() + 10.days();
    let (y, l) = (yesterday.to_string(), later.to_string());
    let out = env.run(&["report", "--from", &y, "--to", &l]);
    out.code(0);
    let days = out
        .lines()
        .filter(|l| l.starts_with("| Thứ") || l.starts_with("| Chủ Nhật"))
        .count();
    assert_eq!(days, 2, "yesterday and today only: {out}");
    out.says("Không có buổi phát nào theo lịch");
    assert!(out.stderr.contains("chưa có nhật ký phát"), "{out}");
    let file = env.path("rong.docx");
    env.run(&[
        "report",
        "--from",
        &y,
        "--to",
        &l,
        "--format",
        "docx",
        "--out",
        file.to_str().unwrap(),
    ])
    .code(0);
    let file = env.path("rong.xlsx");
    env.run(&[
        "report",
        "--from",
        &y,
        "--to",
        &l,
        "--format",
        "xlsx",
        "--out",
        file.to_str().unwrap(),
    ])
    .code(0);
    // All in the future: said, and still a document.
    let (a, b) = (
        (today() + 2.days()).to_string(),
        (today() + 3.days()).to_string(),
    );
    let out = env.run(&["report", "--from", &a, "--to", &b]);
    out.code(0);
    assert!(out.stderr.contains("sau hôm nay"), "{out}");
}

// Issue 14: narrowed to a phase by its name or its tag.
#[test]
fn narrowed_to_a_phase() {
    let env = TestEnv::with_config(&config());
    let m = month(&env);
    let r = range(&m);
    for tag in ["Trước Đại hội", "truoc-dai-hoi"] {
        let out = env.run(&args(&r, &["--tag", tag]));
        out.code(0);
        out.says("Chỉ tính: chủ đề Trước Đại hội.");
        out.says(&format!("Đã phát {}/{} buổi theo lịch", m.days - 2, m.days));
        assert!(!out.stdout.contains("khan-cap/bao-lu.mp3 ("), "{out}");
    }
}

// Issue 14: every bad argument is said plainly, exit 2, and nothing is written.
#[test]
fn bad_arguments_are_refused_plainly() {
    let env = TestEnv::with_config(&config());
    let m = month(&env);
    let r = range(&m);
    let out = env.run(&args(&r, &["--format", "pdf"]));
    out.code(2);
    assert!(
        out.stderr
            .contains("docx (Word), xlsx (Excel), md (Markdown) hoặc csv"),
        "{out}"
    );
    let out = env.run(&args(&r, &["--format", "csv", "--separator", "|"]));
    out.code(2);
    assert!(out.stderr.contains("--separator \"|\""), "{out}");
    let out = env.run(&args(&r, &["--format", "docx", "--separator", ";"]));
    out.code(2);
    assert!(out.stderr.contains("chỉ dùng với --format csv"), "{out}");
    let out = env.run(&args(&r, &["--zone", "thon-1"]));
    out.code(2);
    assert!(out.stderr.contains("chưa khai báo vùng nào"), "{out}");
    let out = env.run(&args(&r, &["--tag", "truoc-dai-hoo"]));
    out.code(2);
    assert!(
        out.stderr.contains("Có phải ý bạn là \"truoc-dai-hoi\"?"),
        "{out}"
    );
    // A folder that does not exist: exit 1, said, no partial file left.
    let gone = env.path("khong-co/bao-cao.docx");
    let out = env.run(&args(
        &r,
        &["--format", "docx", "--out", gone.to_str().unwrap()],
    ));
    out.code(1);
    assert!(out.stderr.contains("Không ghi được báo cáo vào"), "{out}");
    assert!(!env.path("khong-co").exists());
    // Over an existing file: replaced whole, no temporary file left.
    let file = env.path("bao-cao.docx");
    std::fs::write(&file, b"old").unwrap();
    env.run(&args(
        &r,
        &["--format", "docx", "--out", file.to_str().unwrap()],
    ))
    .code(0);
    assert_eq!(&std::fs::read(&file).unwrap()[..2], b"PK");
    let left: Vec<_> = std::fs::read_dir(env.root())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// Issue 14: `loa check` says what the report would lack from [station]:
// a note without the table, a warning with it incomplete, nothing when whole.
#[test]
fn check_says_what_the_report_would_lack() {
    let env = TestEnv::new();
    env.audio("nhac-hieu.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [\"nhac-hieu.mp3\"]\n",
    );
    let out = env.run(&["check"]);
    out.code(0);
    out.says("note: the config has no [station]");
    out.says("0 warning(s)");
    env.write_config(&format!("{DEFAULT_CONFIG}[station]\nname = \"Đài xã\"\n"));
    let out = env.run(&["check"]);
    out.code(0);
    out.says("[station] lacks commune, province, reporter, head");
    out.says("1 warning(s)");
    env.write_config(&config());
    let out = env.run(&["check"]);
    assert!(!out.stdout.contains("[station]"), "{out}");
}

// Issue 14: a file the playlist marks `jingle = true`, like one matching
// [station] jingles, airs and counts on air but is not a bulletin.
#[test]
fn a_file_the_playlist_marks_as_a_jingle_is_not_a_bulletin() {
    let env = TestEnv::with_config(&config());
    env.audio("ket-thuc.mp3");
    env.audio("dai-hoi/ban-tin-1.mp3");
    env.write_playlist(
        "default.toml",
        "[[broadcast]]\nat = \"06:00\"\nitems = [{ file = \"ket-thuc.mp3\", jingle = true }, \"dai-hoi/ban-tin-1.mp3\"]\n",
    );
    let day = today() - 1.day();
    let log = AsRun::open(&env.path("state")).unwrap();
    log.record(&row(day, 0, "ket-thuc.mp3", 0, 30, Status::Played))
        .unwrap();
    log.record(&row(
        day,
        0,
        "dai-hoi/ban-tin-1.mp3",
        30,
        90,
        Status::Played,
    ))
    .unwrap();
    let d = day.to_string();
    let out = env.run(&["report", "--from", &d, "--to", &d]);
    out.code(0);
    out.says("1 bản tin, tổng thời lượng phát 2 phút.");
    out.says("| dai-hoi/ban-tin-1 | 1 | 1 phút 30 giây |");
    assert!(!out.stdout.contains("| ket-thuc |"), "{out}");
}

// Three hamlets, for the zones' tests (tests/cli/zones.rs).
use crate::zones::ZONES;

/// A length as the report writes it: "59 phút 15 giây".
fn vi_duration(s: i64) -> String {
    match (s / 60, s % 60) {
        (0, s) => format!("{s} giây"),
        (m, 0) => format!("{m} phút"),
        (m, s) => format!("{m} phút {s} giây"),
    }
}

/// What aired to each hamlet in [`zoned_month`]: (broadcasts, which are
/// also the bulletins, and seconds) for thon-1 and thon-2 (thon-3 had
/// nothing).
struct PerZone {
    m: Month,
    thon_1: (i64, i64),
    thon_2: (i64, i64),
}

/// Last month ([`month`]) in a commune of three hamlets: the first three
/// days' rows are from before zones existed (they name none); after them,
/// the mornings and the emergency aired to thon-1 and thon-2, the evenings
/// to thon-2 alone (as the playlist now says).
fn zoned_month(env: &TestEnv) -> PerZone {
    env.write_playlist(
        "default.toml",
        PLAYLIST.replace(
            "items = [\"dai-hoi/ban-tin-2.mp3\"]",
            "items = [\"dai-hoi/ban-tin-2.mp3\"]\nzones = [\"thon-2\"]",
        ),
    );
    let m = month_to(env, &|r| {
        let names: &[&str] = if r.day.day() <= 3 {
            &[]
        } else if r.broadcast_key.contains("17:00:00") {
            &["thon-2"]
        } else {
            &["thon-1", "thon-2"]
        };
        names.iter().map(|n| n.to_string()).collect()
    });
    // From the 4th: the mornings but the 5th's (missed) and the 28th's
    // (nothing), one a 10-minute relay; the emergency (45 s); the
    // evenings but the 12th's (failed).
    let mornings = m.days - 5;
    let thon_1 = (mornings + 1, (mornings - 1) * 120 + 630 + 45);
    let evenings = m.days - 4;
    let thon_2 = (thon_1.0 + evenings, thon_1.1 + evenings * 120);
    PerZone { m, thon_1, thon_2 }
}

fn zoned_config() -> String {
    format!("{}{ZONES}", config())
}

// Issue 16: with zones in the config, the report says what aired to each
// hamlet, in the config's order; rows from before zones count for none.
#[test]
fn minutes_aired_per_zone_in_markdown_and_csv() {
    let env = TestEnv::with_config(&zoned_config());
    let z = zoned_month(&env);
    let r = range(&z.m);
    let out = env.run(&args(&r, &[]));
    out.code(0);
    out.says("## 4. Thời lượng phát theo thôn/vùng");
    out.says("| Thôn/vùng | Buổi phát | Bản tin | Thời lượng phát |");
    let (b, s) = z.thon_1;
    let (b2, s2) = z.thon_2;
    out.says(&format!(
        "| Thôn Đông (thon-1) | {b} | {b} | {} |\n| Thôn Tây (thon-2) | {b2} | {b2} | {} |\n| Thôn Bắc (thon-3) | 0 | 0 | 0 giây |\n",
        vi_duration(s),
        vi_duration(s2)
    ));
    // The whole report is as without zones.
    out.says(&format!(
        "tổng thời lượng phát {},",
        vi_duration(z.m.aired_s)
    ));
    out.says("## 5. Tiếp sóng");

    let out = env.run(&args(&r, &["--format", "csv"]));
    out.code(0);
    let lines: Vec<&str> = out
        .stdout
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert!(lines[0].ends_with(",tên chủ đề,vùng,tên vùng"), "{out}");
    assert!(lines.iter().all(|l| l.split(',').count() == 24), "{out}");
    let zones: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| l.starts_with("vùng,"))
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(zones.len(), 3, "{out}");
    for (row, name, title, (b, s)) in [
        (&zones[0], "thon-1", "Thôn Đông", z.thon_1),
        (&zones[1], "thon-2", "Thôn Tây", z.thon_2),
        (&zones[2], "thon-3", "Thôn Bắc", (0, 0)),
    ] {
        assert_eq!((row[22], row[23]), (name, title), "{row:?}");
        assert_eq!(row[3], b.to_string(), "broadcasts: {row:?}");
        assert_eq!(row[6], s.to_string(), "seconds: {row:?}");
        assert_eq!(row[18], b.to_string(), "bulletins: {row:?}");
        let minutes: f64 = row[5].parse().unwrap();
        assert!((minutes - s as f64 / 60.0).abs() <= 0.05, "{row:?}");
    }
}

const READ_ZONES_XLSX: &str = r#"
import sys, json, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
rows = list(wb.worksheets[0].iter_rows(values_only=True))
out = []
for i, r in enumerate(rows):
    if r[0] == "Thời lượng phát theo thôn/vùng":
        out.append([str(c) for c in rows[i + 1][:5]])
        for z in rows[i + 2:]:
            if z[0] is None:
                break
            out.append(list(z[:5]))
print(json.dumps(out))
"#;

// Issue 16: the Word document has the per-zone table as a numbered
// section; the workbook's summary a block of it, in numbers.
#[test]
fn minutes_aired_per_zone_in_word_and_excel() {
    let env = TestEnv::with_config(&zoned_config());
    let z = zoned_month(&env);
    let r = range(&z.m);
    let docx = env.path("thon.docx");
    env.run(&args(
        &r,
        &["--format", "docx", "--out", docx.to_str().unwrap()],
    ))
    .code(0);
    let xlsx = env.path("thon.xlsx");
    env.run(&args(
        &r,
        &["--format", "xlsx", "--out", xlsx.to_str().unwrap()],
    ))
    .code(0);
    if let Some(json) = python("per_zone_docx", "docx", "python3-docx", READ_DOCX, &docx) {
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let text = v["text"].as_str().unwrap();
        let (b, s) = z.thon_1;
        let (b2, s2) = z.thon_2;
        for want in [
            "IV. THỜI LƯỢNG PHÁT THEO THÔN/VÙNG".to_string(),
            "Thôn/vùng | Số buổi phát | Bản tin | Thời lượng".into(),
            format!("Thôn Đông (thon-1) | {b} | {b} | {}", vi_duration(s)),
            format!("Thôn Tây (thon-2) | {b2} | {b2} | {}", vi_duration(s2)),
            "Thôn Bắc (thon-3) | 0 | 0 | 0 giây".into(),
            "V. TIẾP SÓNG".into(),
        ] {
            assert!(
                text.contains(&want),
                "{want:?} not in the document:\n{text}"
            );
        }
    }
    let Some(json) = python(
        "per_zone_xlsx",
        "openpyxl",
        "python3-openpyxl",
        READ_ZONES_XLSX,
        &xlsx,
    ) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(
        rows[0],
        serde_json::json!([
            "Thôn/vùng",
            "Mã vùng",
            "Số lần phát",
            "Bản tin",
            "Số phút phát"
        ])
    );
    assert_eq!(rows.len(), 4, "{json}");
    for (row, name, title, (b, s)) in [
        (&rows[1], "thon-1", "Thôn Đông", z.thon_1),
        (&rows[2], "thon-2", "Thôn Tây", z.thon_2),
        (&rows[3], "thon-3", "Thôn Bắc", (0, 0)),
    ] {
        assert_eq!(
            (row[0].as_str(), row[1].as_str()),
            (Some(title), Some(name))
        );
        assert_eq!(row[2].as_i64(), Some(b), "a number: {row}");
        assert_eq!(row[3].as_i64(), Some(b), "a number: {row}");
        let minutes = row[4].as_f64().expect("minutes as a number");
        assert!((minutes - s as f64 / 60.0).abs() < 0.01, "{row}");
    }
}

// Issue 16: --zone counts only what aired to that hamlet, and says so,
// with the hamlet's title; it takes the title too.
#[test]
fn narrowed_to_one_hamlet() {
    let env = TestEnv::with_config(&zoned_config());
    let z = zoned_month(&env);
    let r = range(&z.m);
    for zone in ["thon-2", "Thôn Tây"] {
        let out = env.run(&args(&r, &["--zone", zone]));
        out.code(0);
        out.says("*Chỉ tính: vùng thon-2 (Thôn Tây).*");
        // From the 4th (rows before name no zone): every morning and
        // evening; the 28th's morning (nothing logged) by the playlist,
        // which sends it to thon-2 too.
        let planned = 2 * (z.m.days - 3);
        let aired = planned - 3;
        out.says(&format!("Đã phát {aired}/{planned} buổi theo lịch ("));
        out.says(&format!(
            "tổng thời lượng phát {},",
            vi_duration(z.thon_2.1)
        ));
        let (b, s) = z.thon_2;
        out.says(&format!(
            "| Thôn Tây (thon-2) | {b} | {b} | {} |",
            vi_duration(s)
        ));
        assert!(!out.stdout.contains("(thon-1) |"), "one hamlet: {out}");
        out.says("khan-cap/bao-lu.mp3 (đã phát, 45 giây)");
    }
    // thon-1 has no evenings: none planned, none missed.
    let out = env.run(&args(&r, &["--zone", "thon-1", "--format", "csv"]));
    out.code(0);
    let total = out
        .stdout
        .split("\r\n")
        .find(|l| l.starts_with("tổng cộng,"))
        .expect("a total row")
        .split(',')
        .collect::<Vec<_>>();
    let mornings = z.m.days - 3;
    assert_eq!(total[16], mornings.to_string(), "{out}");
    assert_eq!(total[17], (mornings - 2).to_string(), "{out}");
    assert_eq!(total[6], z.thon_1.1.to_string(), "{out}");
    assert_eq!(
        (total[7], total[8]),
        ("4", "0"),
        "no evening for thon-1: {out}"
    );
}

// Issue 16: an unknown --zone is refused with the nearest name and the
// zones there are; without zones in the config, --zone is refused (see
// bad_arguments_are_refused_plainly) and the report has no zone section.
#[test]
fn an_unknown_zone_gets_the_nearest_name() {
    let env = TestEnv::with_config(&zoned_config());
    let z = zoned_month(&env);
    let r = range(&z.m);
    for format in ["md", "docx"] {
        let out = env.run(&args(&r, &["--zone", "thon2", "--format", format]));
        out.code(2);
        assert!(
            out.stderr.contains(
                "Không có vùng \"thon2\"; có phải là \"thon-2\" không? Các vùng đã khai báo: thon-1 (Thôn Đông), thon-2 (Thôn Tây), thon-3 (Thôn Bắc)."
            ),
            "{out}"
        );
        assert!(out.stdout.is_empty(), "{out}");
    }
    let english = TestEnv::with_config(&format!("{DEFAULT_CONFIG}{ZONES}"));
    let out = english.run(&args(&r, &["--zone", "thon-9"]));
    out.code(2);
    assert!(out.stderr.contains("there is no zone \"thon-9\""), "{out}");
    assert!(
        out.stderr
            .contains("The zones declared are: thon-1 (Thôn Đông)"),
        "{out}"
    );
}
