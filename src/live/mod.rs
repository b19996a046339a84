//! Live programmes relayed at fixed hours (tiếp sóng): an Internet radio
//! stream (with backups and a fallback file) or the sound card's line-in,
//! for a slot of fixed length.
//!
//! - [`Live`]: a playlist's live item, as parsed.

pub mod http;
pub mod level;
mod line_in;
pub mod probe;
pub mod relay;

use std::time::Duration;

use crate::lang::Lang;
use crate::tr;

/// A stream that sends nothing this long is taken as stalled.
pub const STALL: Duration = Duration::from_secs(5);

/// Where a live item's sound comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveSource {
    /// An HTTP(S) stream (Icecast, Shoutcast, a playlist URL), with the
    /// backups tried in order and a file for the rest of the slot when no
    /// stream can be had.
    Stream {
        /// The main stream.
        url: String,
        /// Tried in order when the main stream cannot be reached or stops.
        backup: Vec<String>,
        /// A file (below the audio folder) aired for the rest of the slot
        /// when no stream can be had.
        fallback: Option<String>,
    },
    /// An ALSA capture device ("default", "hw:1,0", "line-in" …).
    LineIn {
        /// The device's ALSA name.
        device: String,
    },
}

/// A live item: its source and its slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Live {
    /// Where the sound comes from.
    pub source: LiveSource,
    /// The slot's length (`for`): the item ends exactly then, whatever the
    /// source does.
    pub slot: Duration,
}

impl Live {
    /// The as-run log's `kind`: "stream" or "line-in".
    pub fn kind(&self) -> &'static str {
        match self.source {
            LiveSource::Stream { .. } => "stream",
            LiveSource::LineIn { .. } => "line-in",
        }
    }

    /// What the as-run log's `file` holds: the main URL, or the device.
    pub fn name(&self) -> &str {
        match &self.source {
            LiveSource::Stream { url, .. } => url,
            LiveSource::LineIn { device } => device,
        }
    }
}

/// A live item as it goes on air: what it relays, its fallback file
/// found, and its state (shared with the relay, `loa status` and the
/// as-run log).
#[derive(Clone, Debug)]
pub struct LiveAir {
    /// The playlist's live item.
    pub live: Live,
    /// The fallback file, found in the audio folder.
    pub fallback: Option<crate::media::MediaPath>,
    /// What it is doing.
    pub state: std::sync::Arc<LiveState>,
    /// How its level is set.
    pub level: level::Level,
}

impl PartialEq for LiveAir {
    fn eq(&self, other: &Self) -> bool {
        self.live == other.live && self.fallback == other.fallback
    }
}

/// What a live item is doing, for `loa status` and the as-run log; shared
/// by the relay's threads.
#[derive(Debug, Default)]
pub struct LiveState {
    info: std::sync::Mutex<LiveInfo>,
}

/// A live item's state.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LiveInfo {
    /// "stream" or "line-in".
    pub kind: String,
    /// What it airs now: "main", "backup N", "fallback", "silence".
    pub source: String,
    /// The stream it is on (or was last on).
    pub url: Option<String>,
    /// Bytes received from the stream now connected.
    pub bytes: u64,
    /// Seconds of programme received.
    pub received_s: f64,
    /// Seconds of programme (main or backup) handed to the card.
    pub aired_s: f64,
    /// The stream's ICY title: the programme on air.
    pub title: Option<String>,
    /// The station's name (icy-name).
    pub station: Option<String>,
    /// What went wrong, in order (the last is the one shown).
    pub faults: Vec<String>,
}

impl LiveState {
    /// Changes the state.
    pub fn update(&self, f: impl FnOnce(&mut LiveInfo)) {
        f(&mut self.info.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Records a fault (kept once if it repeats).
    pub fn fault(&self, message: String) {
        self.update(|i| {
            if i.faults.last() != Some(&message) {
                i.faults.push(message);
            }
        });
    }

    /// A copy of the state.
    pub fn info(&self) -> LiveInfo {
        self.info.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// `--for`'s length; None when not given, the message when wrong.
pub fn parse_slot(text: Option<&str>, lang: Lang) -> Result<Option<Duration>, String> {
    let Some(s) = text else {
        return Ok(None);
    };
    match crate::duration::parse(s) {
        Some(d) if d >= Duration::from_secs(1) && d <= Duration::from_secs(24 * 3600) => {
            Ok(Some(d))
        }
        _ => {
            let accepted = crate::duration::ACCEPTED;
            Err(tr!(
                lang,
                "--for \"{s}\" không hợp lệ; hãy ghi thời lượng từ 1 giây đến 24 giờ, như {accepted}.",
                "--for \"{s}\" is not valid; write a length from 1 s to 24 h, such as {accepted}"
            ))
        }
    }
}

/// A live programme named on the command line: a stream's http(s)
/// address or `line-in:DEVICE`, for `slot`; None for anything else (a
/// file); the message when it is a live programme that cannot be aired so.
pub fn parse_arg(arg: &str, slot: Option<Duration>, lang: Lang) -> Result<Option<Live>, String> {
    let lower = arg.to_ascii_lowercase();
    let source = if lower.starts_with("http://") || lower.starts_with("https://") {
        if crate::playlist::stream_url_problem(arg).is_some() {
            return Err(tr!(
                lang,
                "\"{arg}\" không phải địa chỉ luồng phát hợp lệ (http:// hoặc https:// rồi tên máy chủ).",
                "\"{arg}\" is not a valid stream address (http:// or https:// then a server name)"
            ));
        }
        LiveSource::Stream {
            url: arg.to_string(),
            backup: Vec::new(),
            fallback: None,
        }
    } else if let Some(d) = arg.strip_prefix("line-in:") {
        LiveSource::LineIn {
            device: if d.is_empty() { "default" } else { d }.to_string(),
        }
    } else {
        return Ok(None);
    };
    let Some(slot) = slot else {
        return Err(tr!(
            lang,
            "\"{arg}\" là chương trình tiếp sóng trực tiếp: hãy cho biết phát trong bao lâu bằng --for, ví dụ --for 30m.",
            "\"{arg}\" is a live programme: say how long it airs with --for, e.g. --for 30m"
        ));
    };
    Ok(Some(Live { source, slot }))
}
