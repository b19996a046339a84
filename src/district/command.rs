//! Carrying out a district command on the box: a command past its
//! `expires` is never aired; an id seen before is never carried out twice
//! (kept in the state database, across restarts); carried audio is checked
//! against its SHA-256 and validated exactly as an upload before it is
//! written into the audio folder; a pushed playlist is checked as `loa
//! check` would and refused with its problems. What is left goes to the
//! airing loop as the control socket's requests (`now`, `queue`, `stop`).

use std::io::Write;

use base64::Engine;
use sha2::Digest;

use super::link::Link;
use super::proto::{Ack, AckStatus, Command, CommandKind, MAX_MEDIA, Media, PushedPlaylist};
use crate::control::protocol::Request;
use crate::tr;

/// Carries out one command (the message's bytes); the answer to publish.
pub(super) async fn carry_out(link: &mut Link, payload: &[u8]) -> Ack {
    let lang = link.cfg.lang;
    let answer = |link: &Link, id: &str, status: AckStatus, error: Option<String>| Ack {
        id: id.to_string(),
        status,
        error,
        at: link.now_text(),
        r#box: link.box_name.clone(),
        rows: Vec::new(),
    };
    let cmd: Command = match serde_json::from_slice(payload) {
        Ok(c) => c,
        Err(e) => {
            let id = serde_json::from_slice::<serde_json::Value>(payload)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_string))
                .unwrap_or_default();
            let why = tr!(
                lang,
                "lệnh không đọc được: {e}",
                "the command cannot be read: {e}"
            );
            tracing::warn!(id = %id, problem = %why, "{}", crate::lang::log("lệnh của huyện bị từ chối", "district command rejected"));
            return answer(link, &id, AckStatus::Rejected, Some(why));
        }
    };
    let id = cmd.id.clone();
    if let Some(why) = expired(&cmd, lang) {
        tracing::warn!(id = %id, "{}", crate::lang::log("lệnh của huyện đã hết hạn: không thực hiện", "district command expired: not carried out"));
        // Seen, so that a later copy is "duplicate", never aired.
        let _ = first_time(link, &id);
        return answer(link, &id, AckStatus::Expired, Some(why));
    }
    match first_time(link, &id) {
        Ok(true) => {}
        Ok(false) => return answer(link, &id, AckStatus::Duplicate, None),
        Err(why) => return answer(link, &id, AckStatus::Rejected, Some(why)),
    }
    tracing::info!(id = %id, command = ?cmd.command, "{}", crate::lang::log("lệnh của huyện", "district command"));
    match run(link, &cmd).await {
        Ok(()) => {
            if cmd.command == CommandKind::Now {
                link.pending_aired.push(id.clone());
            }
            answer(link, &id, AckStatus::Accepted, None)
        }
        Err(why) => {
            tracing::warn!(id = %id, problem = %why, "{}", crate::lang::log("lệnh của huyện bị từ chối", "district command rejected"));
            answer(link, &id, AckStatus::Rejected, Some(why))
        }
    }
}

/// Why the command is past its `expires` (None: it is not, or has none).
fn expired(cmd: &Command, lang: crate::lang::Lang) -> Option<String> {
    let text = cmd.expires.as_deref()?;
    let Ok(at) = text.parse::<jiff::Timestamp>() else {
        return Some(tr!(
            lang,
            "thời hạn \"{text}\" không đọc được (cần RFC 3339)",
            "the expiry \"{text}\" cannot be read (RFC 3339 expected)"
        ));
    };
    (jiff::Timestamp::now() > at).then(|| tr!(lang, "đã hết hạn lúc {text}", "expired at {text}"))
}

fn first_time(link: &Link, id: &str) -> Result<bool, String> {
    let lang = link.cfg.lang;
    if id.is_empty() {
        return Err(tr!(lang, "lệnh không có id", "the command has no id"));
    }
    link.asrun
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .district_first_time(id, jiff::Timestamp::now())
        .map_err(|e| e.message(lang))
}

async fn run(link: &mut Link, cmd: &Command) -> Result<(), String> {
    let lang = link.cfg.lang;
    for m in &cmd.media {
        let cfg = link.cfg.clone();
        let m = m.clone();
        tokio::task::spawn_blocking(move || take_media(&cfg, &m))
            .await
            .map_err(|e| e.to_string())??;
    }
    if let Some(text) = &cmd.say {
        let req = say_request(cmd, text, lang)?;
        return asked(link, req).await;
    }
    let req = match cmd.command {
        CommandKind::Now => Request::Now {
            files: cmd.files.clone(),
            slot: None,
            zones: cmd.zones.clone(),
            origin: Some(cmd.id.clone()),
        },
        CommandKind::Queue => Request::Queue {
            files: cmd.files.clone(),
            zones: cmd.zones.clone(),
        },
        CommandKind::Stop => Request::Stop,
        CommandKind::Playlist => {
            let Some(p) = cmd.playlist.clone() else {
                return Err(tr!(
                    lang,
                    "lệnh playlist không có danh sách phát",
                    "a playlist command without its playlist"
                ));
            };
            let cfg = link.cfg.clone();
            tokio::task::spawn_blocking(move || take_playlist(&cfg, &p))
                .await
                .map_err(|e| e.to_string())??;
            Request::Reload
        }
    };
    asked(link, req).await
}

/// The service's answer to `req`: Ok when it took it.
async fn asked(link: &mut Link, req: Request) -> Result<(), String> {
    let lang = link.cfg.lang;
    match link.ask(req).await {
        Some(r) if r.ok => Ok(()),
        Some(r) => Err(r.message.unwrap_or_default()),
        None => Err(tr!(
            lang,
            "dịch vụ loa không trả lời",
            "the loa service did not answer"
        )),
    }
}

/// A carried audio file: its size, its SHA-256, a plain name; then
/// validated as an upload and written into the audio folder.
/// A `say` command as the service takes it: read aloud at once (`now`,
/// with the command's id for the "aired" answer) or first in the next
/// broadcast (`queue`).
fn say_request(cmd: &Command, text: &str, lang: crate::lang::Lang) -> Result<Request, String> {
    if !cmd.files.is_empty() || !cmd.media.is_empty() {
        return Err(tr!(
            lang,
            "một lệnh có cả văn bản `say` và tệp âm thanh; hãy gửi thành hai lệnh",
            "a command with both a `say` text and audio files; send them as two commands"
        ));
    }
    let queue = match cmd.command {
        CommandKind::Now => false,
        CommandKind::Queue => true,
        CommandKind::Stop | CommandKind::Playlist => {
            return Err(tr!(
                lang,
                "`say` chỉ đi cùng lệnh now hoặc queue",
                "`say` goes with a now or queue command only"
            ));
        }
    };
    Ok(Request::Say {
        text: text.to_string(),
        voice: cmd.voice.clone(),
        queue,
        repeat: 1,
        zones: cmd.zones.clone(),
        origin: (!queue).then(|| cmd.id.clone()),
    })
}

fn take_media(cfg: &crate::config::Config, m: &Media) -> Result<(), String> {
    let lang = cfg.lang;
    let name = &m.name;
    let plain = !name.is_empty()
        && !name.contains('/')
        && !name.starts_with('.')
        && !name.chars().any(char::is_control);
    if !plain {
        let shown = crate::air::display_name(name);
        return Err(tr!(
            lang,
            "tên tệp \"{shown}\" không dùng được (chỉ tên tệp, không thư mục)",
            "the file name \"{shown}\" cannot be used (a file name, no folder)"
        ));
    }
    if m.data_b64.len() > MAX_MEDIA / 3 * 4 + 8 {
        return Err(tr!(
            lang,
            "{name}: tệp lớn hơn 8 MB",
            "{name}: the file is over 8 MB"
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(m.data_b64.as_bytes())
        .map_err(|e| {
            tr!(
                lang,
                "{name}: dữ liệu base64 hỏng ({e})",
                "{name}: broken base64 ({e})"
            )
        })?;
    if bytes.len() > MAX_MEDIA {
        return Err(tr!(
            lang,
            "{name}: tệp lớn hơn 8 MB",
            "{name}: the file is over 8 MB"
        ));
    }
    let sum = hex(&sha2::Sha256::digest(&bytes));
    if !sum.eq_ignore_ascii_case(m.sha256.trim()) {
        return Err(tr!(
            lang,
            "{name}: mã SHA-256 không khớp (nhận được {sum}, lệnh ghi {}); tệp bị hỏng trên đường truyền, không được dùng",
            "{name}: the SHA-256 does not match (got {sum}, the command says {}); the file was damaged on the way and is not used",
            m.sha256
        ));
    }
    // Validated where it will not be taken for an upload, then written in
    // whole (hidden name, sync, rename) and entered in the media index.
    let tmp = cfg
        .paths
        .state
        .join(format!(".district-{}-{}", std::process::id(), &sum[..16]));
    std::fs::write(&tmp, &bytes).map_err(|e| e.to_string())?;
    let probe =
        crate::media::ingest::verdict(&crate::media::MediaPath::Given(tmp.clone()), name, lang);
    let _ = std::fs::remove_file(&tmp);
    let probe = probe.map_err(|why| format!("{name}: {why}"))?;
    crate::media::folder::write_with(&cfg.paths.audio, std::path::Path::new(name), true, |out| {
        out.write_all(&bytes)
    })
    .map_err(|e| format!("{name}: {e}"))?;
    let dest = cfg.paths.audio.join(name);
    if let (Some((size, mtime)), Ok(index)) = (
        crate::media::ingest::stat(&cfg.paths.audio, &dest),
        crate::media::MediaIndex::open(&cfg.paths.state),
    ) {
        index.store_verdict(
            name,
            size,
            mtime,
            &crate::media::validate::Verdict::Ok(probe),
        );
    }
    Ok(())
}

/// A pushed playlist: its name, then its problems as `loa check` finds
/// them (errors refuse it, with the first few); then written in whole.
fn take_playlist(cfg: &crate::config::Config, p: &PushedPlaylist) -> Result<(), String> {
    let lang = cfg.lang;
    let dated = p
        .name
        .strip_suffix(".toml")
        .and_then(crate::playlist::parse_file_date)
        .is_some();
    if p.name != "default.toml" && !dated {
        let shown = crate::air::display_name(&p.name);
        return Err(tr!(
            lang,
            "tên danh sách phát \"{shown}\" không dùng được; hãy dùng default.toml hoặc NĂM-THÁNG-NGÀY.toml",
            "the playlist name \"{shown}\" cannot be used; use default.toml or YEAR-MONTH-DAY.toml"
        ));
    }
    let problems = crate::cli::check::playlist_text_problems(cfg, &p.name, &p.text);
    let errors: Vec<String> = problems
        .iter()
        .filter(|x| x.is_error())
        .map(|x| x.to_string())
        .collect();
    if !errors.is_empty() {
        let n = errors.len();
        let first: Vec<String> = errors.into_iter().take(5).collect();
        return Err(tr!(
            lang,
            "danh sách phát có {n} lỗi, không được dùng: {}",
            "the playlist has {n} error(s) and is not used: {}",
            first.join(" | ")
        ));
    }
    crate::media::folder::write_with(
        &cfg.paths.playlists,
        std::path::Path::new(&p.name),
        true,
        |out| out.write_all(p.text.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
