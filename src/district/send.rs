//! `loa district now|queue|stop|push-playlist --to TARGET`: one command
//! to every box, a box, or a group, and the boxes' answers as they come.
//!
//! The audio goes with the command (each file up to 8 MB, named by its
//! file name, with its SHA-256), so a box airs exactly what was sent. The
//! tool subscribes to the answers before it publishes, publishes once (QoS
//! 1, not retained; the broker keeps it for boxes that are offline), then
//! prints each box's answer until every box that is online has answered
//! (for `now`: said it aired, or why not) or `--wait` is over. Then it
//! lists the boxes that have not answered: an offline box gets the command
//! when it comes back, if that is before the command expires.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use jiff::Timestamp;
use rumqttc::QoS;
use sha2::{Digest, Sha256};

use super::board::{self, Known};
use super::proto::{self, Ack, AckStatus, Command, CommandKind, Media, PushedPlaylist, Topics};
use super::store::BoxRow;
use super::tools::{Link, Session, random_hex, tool_client_id};
use crate::lang::Lang;
use crate::problem::display_path;
use crate::tr;

/// Prints a line as `println!` does; a reader gone away (`| head`) is
/// not worth a panic.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// The largest command the broker takes (its `max_packet_size`, 12 MB),
/// less room for the topic and the packet's header.
pub const MAX_COMMAND: usize = 12 * 1024 * 1024 - 1024;

/// Where a command goes: `all`, a box's name, or `group:NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every box (`PREFIX/all/cmd`).
    All,
    /// One box (`PREFIX/BOX/cmd`).
    Box(String),
    /// The boxes of a group (`PREFIX/group/NAME/cmd`).
    Group(String),
}

impl Target {
    /// `--to`'s value.
    pub fn parse(s: &str, lang: Lang) -> Result<Target, String> {
        let s = s.trim();
        let bad = |what: &str| {
            tr!(
                lang,
                "--to \"{s}\" không hợp lệ ({what}); hãy viết all (mọi máy), tên một máy (ví dụ xa-an-binh) hoặc group:TÊN-NHÓM (ví dụ group:ven-bien).",
                "--to \"{s}\" is not valid ({what}); write all (every box), a box's name (e.g. xa-an-binh) or group:NAME (e.g. group:ven-bien)"
            )
        };
        let valid = crate::config::district::valid_name;
        if s == "all" {
            Ok(Target::All)
        } else if let Some(g) = s.strip_prefix("group:") {
            if valid(g) {
                Ok(Target::Group(g.to_string()))
            } else {
                Err(bad(lang.pick(
                    "tên nhóm chỉ gồm a-z, 0-9 và dấu gạch ngang",
                    "a group's name is a-z, 0-9 and '-'",
                )))
            }
        } else if valid(s) && s != "group" {
            Ok(Target::Box(s.to_string()))
        } else {
            Err(bad(lang.pick(
                "tên máy chỉ gồm a-z, 0-9 và dấu gạch ngang",
                "a box's name is a-z, 0-9 and '-'",
            )))
        }
    }

    /// The command topic.
    pub fn topic(&self, t: &Topics) -> String {
        match self {
            Target::All => t.all_cmd(),
            Target::Box(b) => t.cmd(b),
            Target::Group(g) => t.group_cmd(g),
        }
    }

    /// As written on the command line: "all", "xa-a", "group:ven-bien".
    pub fn label(&self) -> String {
        match self {
            Target::All => "all".into(),
            Target::Box(b) => b.clone(),
            Target::Group(g) => format!("group:{g}"),
        }
    }

    /// As the operator reads it: "tất cả các máy" / "all boxes", "nhóm
    /// ven-bien" / "group ven-bien", "máy xa-a" / "box xa-a".
    pub fn shown(&self, lang: Lang) -> String {
        match self {
            Target::All => lang.pick("tất cả các máy", "all boxes").into(),
            Target::Box(b) => tr!(lang, "máy {b}", "box {b}"),
            Target::Group(g) => tr!(lang, "nhóm {g}", "group {g}"),
        }
    }

    /// Whether the command reaches `b` (a group's members by the groups
    /// its last status named).
    pub fn includes(&self, b: &BoxRow) -> bool {
        match self {
            Target::All => true,
            Target::Box(n) => &b.name == n,
            Target::Group(g) => b.groups.iter().any(|x| x == g),
        }
    }

    /// The target as a topic names it ("all", a box, "group:NAME").
    pub fn from_topic(t: &Topics, topic: &str) -> Option<Target> {
        let rest = topic.strip_prefix(&t.prefix)?.strip_prefix('/')?;
        let rest = rest.strip_suffix("/cmd")?;
        match rest.split_once('/') {
            Some(("group", g)) if !g.contains('/') => Some(Target::Group(g.into())),
            None if rest == "all" => Some(Target::All),
            None => Some(Target::Box(rest.into())),
            _ => None,
        }
    }
}

/// What to send.
#[derive(Clone, Debug)]
pub struct Order {
    /// now, queue, stop, playlist.
    pub kind: CommandKind,
    /// Where.
    pub target: Target,
    /// Local audio files to carry (now, queue).
    pub files: Vec<PathBuf>,
    /// The zones (now, queue); empty: every zone.
    pub zones: Vec<String>,
    /// The playlist file (playlist).
    pub playlist: Option<PathBuf>,
    /// A text each box reads aloud (now, queue).
    pub say: Option<String>,
    /// How long the command stays good.
    pub expires: Duration,
    /// How long to wait for the answers.
    pub wait: Duration,
}

/// A local audio file as a command carries it; refused over 8 MB.
pub fn media(path: &Path, lang: Lang) -> Result<Media, String> {
    let shown = display_path(path);
    let unreadable = |e: std::io::Error| {
        let why = crate::tomlfile::io_reason(&e, lang);
        tr!(
            lang,
            "Không đọc được tệp {shown} ({why}).",
            "cannot read {shown} ({why})"
        )
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(tr!(
            lang,
            "{shown} không phải một tệp âm thanh.",
            "{shown} is not a file"
        ));
    }
    let too_big = |len: u64| {
        let mb = format!("{:.1}", len as f64 / (1024.0 * 1024.0));
        let mb = lang.pick(mb.replace('.', ","), mb);
        let max = proto::MAX_MEDIA / (1024 * 1024);
        tr!(
            lang,
            "Tệp {shown} nặng {mb} MB, quá {max} MB, mức tối đa một lệnh mang được; không gửi gì. Hãy làm tệp nhỏ hơn (ví dụ xuất MP3 64 kbit/s một kênh, đủ cho tiếng nói) rồi gửi lại.",
            "{shown} is {mb} MB, over the {max} MB a command can carry; nothing was sent. Make it smaller (an MP3 at 64 kbit/s mono is enough for speech) and send it again"
        )
    };
    if meta.len() > proto::MAX_MEDIA as u64 {
        return Err(too_big(meta.len()));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.starts_with('.'))
        .ok_or_else(|| {
            tr!(
                lang,
                "Tên tệp {shown} không dùng được; hãy đổi tên (chữ, số, dấu gạch ngang), ví dụ bao-bao.mp3.",
                "the name of {shown} cannot be used; rename it (letters, digits, '-'), e.g. bao-bao.mp3"
            )
        })?;
    let bytes = std::fs::read(path).map_err(unreadable)?;
    if bytes.len() > proto::MAX_MEDIA {
        return Err(too_big(bytes.len() as u64));
    }
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Media {
        name: name.to_string(),
        sha256,
        data_b64: base64::engine::general_purpose::STANDARD.encode(&bytes),
    })
}

/// A playlist file as `push-playlist` sends it: named default.toml or
/// YYYY-MM-DD.toml, and free of errors (checked here as `loa check`
/// would; what it plays is checked by each box).
pub fn playlist(path: &Path, lang: Lang) -> Result<PushedPlaylist, String> {
    let shown = display_path(path);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let named_right = name == "default.toml"
        || name
            .strip_suffix(".toml")
            .and_then(crate::playlist::parse_file_date)
            .is_some();
    if !named_right {
        return Err(tr!(
            lang,
            "Danh sách phát {shown} phải có tên là default.toml hoặc NĂM-THÁNG-NGÀY.toml (ví dụ 2026-01-20.toml): máy ở xã lưu nó với đúng tên này. Hãy đổi tên tệp rồi gửi lại.",
            "the playlist {shown} must be named default.toml or YEAR-MONTH-DAY.toml (e.g. 2026-01-20.toml): the box stores it under this name. Rename it and send again"
        ));
    }
    let src = crate::tomlfile::Source::read(path, lang).map_err(|p| p.to_string())?;
    let (_, problems) = crate::playlist::parse(&src, lang);
    let errors: Vec<String> = problems
        .iter()
        .filter(|p| p.is_error())
        .map(ToString::to_string)
        .collect();
    for p in problems.iter().filter(|p| !p.is_error()) {
        eprintln!("{p}");
    }
    if !errors.is_empty() {
        let head = tr!(
            lang,
            "Danh sách phát {shown} có lỗi, không gửi; hãy sửa rồi gửi lại:",
            "the playlist {shown} has errors and was not sent; correct them and send again:"
        );
        return Err(format!("{head}\n{}", errors.join("\n")));
    }
    Ok(PushedPlaylist {
        name,
        text: src.text,
    })
}

/// A fresh command id: the command's word, the local time and random
/// digits ("now-20261102-100312-3fa9c1").
pub fn new_id(kind: CommandKind, now: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    let dt = tz.to_offset(now).to_datetime(now);
    format!(
        "{}-{:04}{:02}{:02}-{:02}{:02}{:02}-{}",
        kind_word(kind),
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        random_hex(3)
    )
}

fn kind_word(kind: CommandKind) -> &'static str {
    match kind {
        CommandKind::Now => "now",
        CommandKind::Queue => "queue",
        CommandKind::Stop => "stop",
        CommandKind::Playlist => "playlist",
    }
}

/// The command for `order`, made at `now`; or why it cannot be sent.
pub fn command(order: &Order, now: Timestamp, link: &Link) -> Result<Command, String> {
    let lang = link.lang;
    let media = order
        .files
        .iter()
        .map(|f| media(f, lang))
        .collect::<Result<Vec<Media>, String>>()?;
    let playlist = order
        .playlist
        .as_deref()
        .map(|p| playlist(p, lang))
        .transpose()?;
    let expires = Timestamp::from_millisecond(
        now.as_millisecond()
            .saturating_add(order.expires.as_millis() as i64),
    )
    .unwrap_or(now);
    let c = Command {
        id: new_id(order.kind, now, &link.tz),
        command: order.kind,
        files: media.iter().map(|m| m.name.clone()).collect(),
        zones: order.zones.clone(),
        expires: Some(crate::schedule::rfc3339(expires, &link.tz)),
        media,
        playlist,
        say: order.say.clone(),
        voice: None,
    };
    let size = serde_json::to_vec(&c).map_or(0, |v| v.len());
    if size > MAX_COMMAND {
        let mb = size / (1024 * 1024);
        return Err(tr!(
            lang,
            "Các tệp này cộng lại quá lớn cho một lệnh ({mb} MB sau khi mã hóa, tối đa 12 MB); hãy gửi từng tệp một.",
            "together these files are too big for one command ({mb} MB encoded, at most 12 MB); send them one at a time"
        ));
    }
    Ok(c)
}

/// Whether an answer ends the wait for a box: for `now`, having aired or
/// not being carried out; for the others any answer.
fn is_final(kind: CommandKind, s: AckStatus) -> bool {
    kind != CommandKind::Now || s != AckStatus::Accepted
}

/// One answer, as printed.
pub fn ack_line(name: &str, ack: &Ack, link: &Link) -> String {
    let lang = link.lang;
    let reason = ack
        .error
        .as_deref()
        .unwrap_or("")
        .replace(['\n', '\r'], " ");
    match ack.status {
        AckStatus::Accepted => tr!(lang, "{name}: đã nhận lệnh", "{name}: accepted"),
        AckStatus::Aired => {
            let items: Vec<String> = ack.rows.iter().map(|r| aired_item(r, link)).collect();
            let items = items.join(", ");
            let mut line = tr!(lang, "{name}: ĐÃ PHÁT {items}", "{name}: AIRED {items}")
                .trim_end()
                .to_string();
            if !reason.is_empty() {
                line += &format!(" ({reason})");
            }
            line
        }
        AckStatus::Rejected => tr!(
            lang,
            "{name}: TỪ CHỐI: {reason}",
            "{name}: REJECTED: {reason}"
        ),
        AckStatus::Expired => tr!(
            lang,
            "{name}: lệnh đã hết hạn khi đến máy, không thực hiện",
            "{name}: expired before it reached the box, not carried out"
        ),
        AckStatus::Duplicate => tr!(
            lang,
            "{name}: đã thực hiện lệnh này trước đó (trùng), không làm lại",
            "{name}: duplicate: already carried out, not again"
        ),
    }
}

/// An aired row: "bao.mp3 lúc 10:02:05" / "bao.mp3 at 10:02:05"; one
/// that did not play whole says how it went ("bao.mp3 (bị ngắt,
/// 10:02:05)").
fn aired_item(row: &serde_json::Value, link: &Link) -> String {
    use crate::asrun::Status;
    let lang = link.lang;
    let file = row.get("file").and_then(|v| v.as_str()).unwrap_or("?");
    let status = row
        .get("status")
        .and_then(|v| serde_json::from_value::<Status>(v.clone()).ok());
    let at = row
        .get("started")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<Timestamp>().ok())
        .map(|t| crate::schedule::local_time(t, &link.tz));
    match (status, at) {
        (Some(Status::Played) | None, Some(at)) => tr!(lang, "{file} lúc {at}", "{file} at {at}"),
        (Some(Status::Played) | None, None) => file.to_string(),
        (Some(s), Some(at)) => format!("{file} ({}, {at})", s.label(lang)),
        (Some(s), None) => format!("{file} ({})", s.label(lang)),
    }
}

/// `loa district now|queue|stop|push-playlist`: the exit code (1 when a
/// box refused it or it could not be sent).
pub fn send(link: &Link, state: &Path, order: &Order) -> i32 {
    let now = Timestamp::now();
    let command = match command(order, now, link) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            return crate::cli::exit::PROBLEMS;
        }
    };
    let known = match board::from_store(state, link.lang) {
        Ok(k) => k,
        Err(msg) => {
            eprintln!("{msg}");
            None
        }
    };
    let rt = match super::tools::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return crate::cli::exit::PROBLEMS;
        }
    };
    match rt.block_on(exchange(link, order, &command, known)) {
        Ok(answers) => summary(link, order, &command, &answers),
        Err(msg) => {
            eprintln!("{msg}");
            crate::cli::exit::PROBLEMS
        }
    }
}

/// The expected boxes and what each answered.
#[derive(Debug, Default)]
pub struct Answers {
    /// The boxes the command should reach.
    pub expected: Vec<BoxRow>,
    /// Each box's answers, in order (boxes not expected included).
    pub got: BTreeMap<String, Vec<Ack>>,
}

/// Subscribes to the answers, publishes, prints the answers as they come.
async fn exchange(
    link: &Link,
    order: &Order,
    command: &Command,
    known: Option<Known>,
) -> Result<Answers, String> {
    let lang = link.lang;
    let t = &link.topics;
    let mut s = Session::open(link, &tool_client_id()).await?;
    let mut filters = vec![(t.ack("+"), QoS::AtLeastOnce)];
    if known.is_none() {
        filters.extend(board::filters(t));
    }
    s.subscribe(&filters).await?;
    let boxes = match known {
        Some(k) => k.boxes,
        None => board::gather(&mut s, t).await?,
    };
    let mut a = Answers {
        expected: boxes
            .into_iter()
            .filter(|b| order.target.includes(b))
            .collect(),
        ..Answers::default()
    };
    announce(link, order, command, &mut a.expected);
    let payload = serde_json::to_vec(command).map_err(|e| e.to_string())?;
    s.publish(&order.target.topic(t), payload).await?;
    say!(
        "{}",
        tr!(
            lang,
            "Máy chủ MQTT đã nhận lệnh. Đang chờ các máy trả lời (tối đa {})...",
            "The broker has the command. Waiting for the boxes' answers (at most {})...",
            crate::duration::human(order.wait, lang)
        )
    );
    let until = tokio::time::Instant::now() + order.wait;
    while !all_answered(order.kind, &a) {
        let Some(p) = s.next(until).await? else {
            break;
        };
        let Some((name, "ack")) = t.split(&p.topic) else {
            continue;
        };
        let Ok(ack) = serde_json::from_slice::<Ack>(&p.payload) else {
            continue;
        };
        if ack.id != command.id {
            continue;
        }
        say!("{}", ack_line(name, &ack, link));
        a.got.entry(name.to_string()).or_default().push(ack);
    }
    s.close().await;
    Ok(a)
}

/// Says what is sent where, and to how many boxes.
fn announce(link: &Link, order: &Order, command: &Command, expected: &mut Vec<BoxRow>) {
    let lang = link.lang;
    let target = order.target.shown(lang);
    if let Target::Box(name) = &order.target
        && expected.is_empty()
    {
        say!(
            "{}",
            tr!(
                lang,
                "Lưu ý: máy {name} chưa từng báo về huyện; lệnh vẫn được gửi, nhưng nếu máy này chưa từng kết nối thì máy chủ không giữ lệnh cho nó. Hãy kiểm tra tên máy.",
                "note: the box {name} has never reported to the district; the command is sent, but if that box has never connected the broker keeps nothing for it. Check the name"
            )
        );
        expected.push(BoxRow {
            name: name.clone(),
            ..BoxRow::default()
        });
    }
    if let Target::Group(g) = &order.target
        && expected.is_empty()
    {
        say!(
            "{}",
            tr!(
                lang,
                "Lưu ý: chưa biết máy nào thuộc nhóm {g} (theo trạng thái các máy gửi về); lệnh vẫn được gửi.",
                "note: no known box is in group {g} (by the boxes' statuses); the command is sent all the same"
            )
        );
    }
    let n = expected.len();
    let what = match order.kind {
        CommandKind::Now => lang.pick("lệnh phát khẩn cấp", "emergency"),
        CommandKind::Queue => lang.pick("lệnh phát ưu tiên", "priority item"),
        CommandKind::Stop => lang.pick("lệnh dừng buổi phát", "stop"),
        CommandKind::Playlist => lang.pick("danh sách phát", "playlist"),
    };
    let id = &command.id;
    let until = command.expires.as_deref().map_or(String::new(), |e| {
        e.parse::<Timestamp>().map_or(e.to_string(), |t| {
            board::when(t, Timestamp::now(), &link.tz, lang)
        })
    });
    let mut items: Vec<String> = command.files.clone();
    if let Some(text) = &command.say {
        items.push(format!("\"{}\"", crate::tts::preview(text)));
    }
    if let Some(p) = &command.playlist {
        items.push(p.name.clone());
    }
    let items = if items.is_empty() {
        String::new()
    } else {
        format!(": {}", items.join(", "))
    };
    say!(
        "{}",
        tr!(
            lang,
            "Gửi {what} {id} tới {target} ({n} máy cần trả lời){items}; hết hạn lúc {until}.",
            "Sending {what} {id} to {target} ({n} expected to answer){items}; it expires at {until}."
        )
    );
}

/// Whether every expected box that may answer (not known to be offline)
/// has given a final answer.
fn all_answered(kind: CommandKind, a: &Answers) -> bool {
    a.expected
        .iter()
        .filter(|b| b.online != Some(false))
        .all(|b| {
            a.got
                .get(&b.name)
                .is_some_and(|acks| acks.iter().any(|x| is_final(kind, x.status)))
        })
}

/// The boxes that have not answered (or, for `now`, not said they aired),
/// and the exit code.
fn summary(link: &Link, order: &Order, command: &Command, a: &Answers) -> i32 {
    let lang = link.lang;
    let now = Timestamp::now();
    let wait = crate::duration::human(order.wait, lang);
    let until = command
        .expires
        .as_deref()
        .and_then(|e| e.parse::<Timestamp>().ok())
        .map_or_else(String::new, |t| board::when(t, now, &link.tz, lang));
    let mut missing = Vec::new();
    for b in &a.expected {
        let name = &b.name;
        let acks = a.got.get(name).map(Vec::as_slice).unwrap_or_default();
        if acks.is_empty() {
            missing.push(match b.online {
                Some(false) => {
                    let since = b
                        .online_since
                        .map(|t| board::when(t, now, &link.tz, lang))
                        .map(|s| lang.pick(format!(" từ {s}"), format!(" since {s}")))
                        .unwrap_or_default();
                    tr!(
                        lang,
                        "  {name}: mất kết nối{since}; máy chủ MQTT giữ lệnh cho máy này đến khi lệnh hết hạn lúc {until}.",
                        "  {name}: offline{since}; the broker keeps it for them until it expires at {until}."
                    )
                }
                _ => tr!(
                    lang,
                    "  {name}: chưa trả lời sau {wait}.",
                    "  {name}: no answer within {wait}."
                ),
            });
        } else if !acks.iter().any(|x| is_final(order.kind, x.status)) {
            missing.push(tr!(
                lang,
                "  {name}: đã nhận nhưng chưa báo đã phát sau {wait} (xem loa district status).",
                "  {name}: accepted, not yet aired after {wait} (see loa district status)."
            ));
        }
    }
    let (n, answered) = (
        a.expected.len(),
        a.expected
            .iter()
            .filter(|b| a.got.contains_key(&b.name))
            .count(),
    );
    if !missing.is_empty() {
        let k = missing.len();
        say!(
            "{}",
            tr!(lang, "Chưa trả lời đủ ({k}):", "Not answered ({k}):")
        );
        for m in &missing {
            say!("{m}");
        }
    }
    let rejected = a
        .got
        .values()
        .flatten()
        .filter(|x| x.status == AckStatus::Rejected)
        .count();
    say!(
        "{}",
        tr!(
            lang,
            "{answered}/{n} máy đã trả lời; {rejected} máy từ chối.",
            "{answered}/{n} boxes answered; {rejected} refused."
        )
    );
    if rejected > 0 {
        crate::cli::exit::PROBLEMS
    } else {
        crate::cli::exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Topics::new("loa");
        for (text, topic) in [
            ("all", "loa/all/cmd"),
            ("xa-a", "loa/xa-a/cmd"),
            ("group:ven-bien", "loa/group/ven-bien/cmd"),
        ] {
            let target = Target::parse(text, Lang::En).unwrap();
            assert_eq!(target.topic(&t), topic);
            assert_eq!(target.label(), text);
            assert_eq!(Target::from_topic(&t, topic), Some(target));
        }
        for bad in ["", "group:", "Xã A", "group:a/b", "group", "a+b"] {
            assert!(Target::parse(bad, Lang::En).is_err(), "{bad}");
        }
        let b = BoxRow {
            name: "xa-a".into(),
            groups: vec!["ven-bien".into()],
            ..BoxRow::default()
        };
        assert!(Target::Group("ven-bien".into()).includes(&b));
        assert!(!Target::Group("mien-nui".into()).includes(&b));
    }

    #[test]
    fn a_file_over_8_mb_is_refused_and_a_small_one_carried() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("to.mp3");
        std::fs::write(&big, vec![0u8; proto::MAX_MEDIA + 1]).unwrap();
        let e = media(&big, Lang::En).unwrap_err();
        assert!(e.contains("8.0 MB") && e.contains("over the 8 MB"), "{e}");
        assert!(media(&big, Lang::Vi).unwrap_err().contains("quá 8 MB"));
        let small = dir.path().join("bao.mp3");
        std::fs::write(&small, b"abc").unwrap();
        let m = media(&small, Lang::En).unwrap();
        assert_eq!(m.name, "bao.mp3");
        assert_eq!(
            m.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(m.data_b64, "YWJj");
    }

    #[test]
    fn a_playlist_must_be_named_as_a_box_stores_it() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("lich.toml");
        std::fs::write(&bad, "").unwrap();
        assert!(
            playlist(&bad, Lang::En)
                .unwrap_err()
                .contains("default.toml")
        );
        let good = dir.path().join("2026-02-01.toml");
        std::fs::write(&good, "").unwrap();
        assert_eq!(playlist(&good, Lang::En).unwrap().name, "2026-02-01.toml");
    }
}
