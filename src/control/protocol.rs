//! The control socket's protocol: JSON lines, one [`Request`] object per
//! line from the client, one [`Response`] object per line back, then the
//! server closes. These shapes are read by other programs and checks: change
//! them only by adding optional fields. It must not do any IO.

use serde::{Deserialize, Serialize};

/// The longest request line the server reads (64 KiB): a request is a
/// command and a few file names, so anything longer is a mistake or abuse.
pub const MAX_REQUEST: usize = 64 * 1024;

/// The longest response line the client reads (4 MiB): a status lists a
/// day's broadcasts, far below this.
pub const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// What a client asks of the running daemon.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum Request {
    /// What is playing, what comes next, the relay, the clock, errors.
    Status,
    /// Emergency: air these files at once, interrupting what plays.
    Now {
        /// Names below the audio folder, in airing order; or live
        /// programmes (a stream's address, `line-in:DEVICE`).
        files: Vec<String>,
        /// How long live programmes air (`--for`, e.g. "10m").
        #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
        slot: Option<String>,
        /// The zones to air to (`--zone`); empty: every zone.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        zones: Vec<String>,
        /// The district command that asks it (its id), for the as-run
        /// log and the district's "aired" answer; None from the socket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
    },
    /// Priority: air these files first in the next broadcast.
    Queue {
        /// Names below the audio folder, in airing order.
        files: Vec<String>,
        /// The zones to air to (`--zone`); empty: every zone.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        zones: Vec<String>,
    },
    /// Text read aloud on the box (`loa say --now|--queue`, the
    /// district's `"say"`): rendered by the service, then aired as an
    /// emergency or queued first for the next broadcast.
    Say {
        /// The text as written (at most `tts::MAX_CHARS` characters).
        text: String,
        /// The espeak-ng voice (`vi`, `vi-VN-x-central`, `vi-VN-x-south`);
        /// None: `[tts] voice`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voice: Option<String>,
        /// True: first in the next broadcast (as `queue`); false: at once,
        /// interrupting what plays (as `now`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        queue: bool,
        /// How many times it is read (1 to 10).
        #[serde(default = "one", skip_serializing_if = "is_one")]
        repeat: u32,
        /// The zones to air to; empty: every zone.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        zones: Vec<String>,
        /// The district command that asks it (its id); None from the socket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
    },
    /// End the current broadcast (relay off after the hold).
    Stop,
    /// Skip the item playing now.
    Skip,
    /// Re-read the playlists and the audio folder.
    Reload,
    /// `loa relay on|off` while the daemon owns the relay line.
    Relay {
        /// True to switch the amplifier on, false for off.
        on: bool,
        /// One zone's relay instead of the amplifier's (`--zone`); off
        /// without a zone switches every line off.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// The daemon's answer to one request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    /// True when the request was done (or the status given).
    pub ok: bool,
    /// What to tell the operator, already in the operator's language.
    #[serde(default)]
    pub message: Option<String>,
    /// The answer to [`Request::Status`].
    #[serde(default)]
    pub status: Option<Status>,
    /// The daemon was too busy to take the request (too many connections
    /// at once): ask again shortly. Left out of the JSON when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub busy: bool,
}

impl Response {
    /// Done; `message` tells the operator what happened.
    pub fn ok(message: impl Into<String>) -> Response {
        Response {
            ok: true,
            message: Some(message.into()),
            status: None,
            busy: false,
        }
    }

    /// Refused or failed; `message` says why and what to do.
    pub fn error(message: impl Into<String>) -> Response {
        Response {
            ok: false,
            message: Some(message.into()),
            status: None,
            busy: false,
        }
    }

    /// The answer to a status request.
    pub fn status(status: Status) -> Response {
        Response {
            ok: true,
            message: None,
            status: Some(status),
            busy: false,
        }
    }
}

/// The daemon's view, as `loa status` shows it. Times are RFC 3339 with the
/// commune's offset. Missing fields read as their defaults, so that a client
/// and a daemon of slightly different versions still understand each other.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Status {
    /// The daemon's wall clock: "since" and "in" are measured from it, not
    /// from the client's.
    pub now: String,
    /// The daemon's time zone name (`timezone` in its config).
    pub timezone: String,
    /// The item on the air; None when nothing plays.
    pub playing: Option<Playing>,
    /// The amplifier is on and warming up for a broadcast whose first item
    /// has not started yet.
    pub warming_up: Option<WarmingUp>,
    /// The next broadcast whose relay has yet to go on; None when none is
    /// planned.
    pub next: Option<NextBroadcast>,
    /// The amplifier relay.
    pub relay: RelayState,
    /// Each zone's relay (`[[zone]]`), in the config's order; empty when
    /// no zone is configured.
    pub zones: Vec<ZoneStatus>,
    /// The link to the district (`[district]`); None without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<DistrictLink>,
    /// False: nothing airs until the clock is synchronised.
    pub clock_synced: bool,
    /// The sound device from the config (`[audio] device`).
    pub audio_device: String,
    /// The last error the operator should know of, in their language; None
    /// when there is none (or its cause is gone).
    pub last_error: Option<String>,
    /// When the last error happened (it is cleared once its cause is gone:
    /// the file replaced or removed, the sound device playing again).
    pub last_error_at: Option<String>,
    /// A broken playlist edit: the last good plan stays in effect.
    pub plan_error: Option<String>,
    /// The playlist file in effect today.
    pub playlist: Option<String>,
    /// Today's broadcasts, in the plan's order, each with how it went.
    pub today: Vec<TodayBroadcast>,
    /// Files queued with priority for the next broadcast.
    pub queued: Vec<String>,
    /// What needs attention: an upload that could not be taken up, links,
    /// pipes and other odd names in the audio folder, a disk nearly full,
    /// an unsynchronised clock.
    pub warnings: Vec<String>,
    /// The broadcast archive: how many recordings, how much space, how
    /// long they are kept, the last deletion; None from a daemon without
    /// one.
    pub archive: Option<String>,
}

/// The item on the air.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Playing {
    /// The broadcast's title; None for an emergency outside a broadcast or
    /// an untitled one.
    pub broadcast: Option<String>,
    /// The item's name (the playlist's, or the file asked for).
    pub file: String,
    /// Seconds of it played so far.
    pub elapsed_s: f64,
    /// None when the length is not known.
    pub total_s: Option<f64>,
    /// How it was asked for: the playlist, `loa queue` or `loa now`.
    pub priority: crate::asrun::Priority,
    /// 1-based position of the item in what airs now (priority items
    /// first, then the broadcast's own), of `count`.
    pub index: usize,
    /// How many items air now (priority items included).
    pub count: usize,
    /// A live programme: what it relays, how it goes, the last fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay: Option<crate::live::LiveInfo>,
}

/// A broadcast whose amplifier is warming up.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct WarmingUp {
    /// The broadcast's title; None for an untitled one or an emergency.
    pub broadcast: Option<String>,
    /// When the amplifier went on.
    pub since: String,
    /// When the first item starts.
    pub until: String,
}

/// The next broadcast due.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NextBroadcast {
    /// The broadcast's title; None for an untitled one.
    pub title: Option<String>,
    /// When its first item starts.
    pub at: String,
    /// When the relay goes on (`at` minus the warm-up).
    pub relay_on: String,
}

/// The amplifier relay as the daemon drives it.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RelayState {
    /// True while the amplifier is switched on.
    pub on: bool,
    /// The last edge (the switch-off at start-up when it has not switched
    /// since); None only from a fake.
    pub since: Option<String>,
    /// "gpio", "rppal" or "sim".
    pub backend: String,
}

/// A zone's relay, as `loa status` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default)]
pub struct ZoneStatus {
    /// The zone's name (`[[zone]] name`).
    pub name: String,
    /// What the operator reads (`[[zone]] title`).
    pub title: String,
    /// True while its line is switched on.
    pub on: bool,
    /// Its last edge (the switch-off at start-up when it has not switched
    /// since).
    pub since: Option<String>,
}

/// The link to the district's broker, as `loa status` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default)]
pub struct DistrictLink {
    /// The broker (`mqtts://host:8883`).
    pub broker: String,
    /// This box's name.
    pub r#box: String,
    /// "connecting", "connected", "disconnected" or "refused" (the
    /// credentials file cannot be used: `error` says why).
    pub state: String,
    /// Since when (RFC 3339).
    pub since: Option<String>,
    /// Why it is not connected.
    pub error: Option<String>,
    /// The last as-run row the broker has.
    pub rows_acked: i64,
}

/// One of today's broadcasts.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TodayBroadcast {
    /// The broadcast's title; None for an untitled one.
    pub title: Option<String>,
    /// When its first item is planned to start.
    pub at: String,
    /// How it went, or where it stands.
    pub status: BroadcastResult,
}

/// What became of a broadcast (or where it stands), as `loa status` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BroadcastResult {
    /// Not aired yet.
    #[default]
    Pending,
    /// On the air now.
    Playing,
    /// Every item played.
    Aired,
    /// Some items played, not all.
    Partial,
    /// Every item played, the broadcast having started late (a restart,
    /// a clock set late, an overrun before it).
    Late,
    /// Its time passed without it airing.
    Missed,
    /// Nothing played.
    Failed,
    /// Skipped by the operator.
    Skipped,
    /// Due before loa first ran on this box: not missed, not in the as-run
    /// log.
    BeforeInstall,
    /// A word from another version of loa, shown as sent.
    #[serde(untagged)]
    Other(String),
}

impl BroadcastResult {
    /// The word in the JSON (and the log).
    pub fn as_str(&self) -> &str {
        match self {
            BroadcastResult::Pending => "pending",
            BroadcastResult::Playing => "playing",
            BroadcastResult::Aired => "aired",
            BroadcastResult::Partial => "partial",
            BroadcastResult::Late => "late",
            BroadcastResult::Missed => "missed",
            BroadcastResult::Failed => "failed",
            BroadcastResult::Skipped => "skipped",
            BroadcastResult::BeforeInstall => "before-install",
            BroadcastResult::Other(w) => w,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Issue 12: the status words are an enum; the JSON keeps the words.
    #[test]
    fn broadcast_results_keep_their_words() {
        use BroadcastResult as B;
        for (r, word) in [
            (B::Pending, "pending"),
            (B::Playing, "playing"),
            (B::Aired, "aired"),
            (B::Partial, "partial"),
            (B::Late, "late"),
            (B::Missed, "missed"),
            (B::Failed, "failed"),
            (B::Skipped, "skipped"),
            (B::BeforeInstall, "before-install"),
            (B::Other("paused".into()), "paused"),
        ] {
            assert_eq!(serde_json::to_value(&r).unwrap(), json!(word));
            assert_eq!(r.as_str(), word);
            assert_eq!(serde_json::from_value::<B>(json!(word)).unwrap(), r);
        }
    }

    fn round_trip(req: Request, text: &str) {
        assert_eq!(serde_json::to_string(&req).unwrap(), text);
        assert_eq!(serde_json::from_str::<Request>(text).unwrap(), req);
    }

    #[test]
    fn requests_have_the_documented_shapes() {
        round_trip(Request::Status, r#"{"cmd":"status"}"#);
        round_trip(
            Request::Now {
                files: vec!["a.mp3".into()],
                slot: None,
                zones: vec![],
                origin: None,
            },
            r#"{"cmd":"now","files":["a.mp3"]}"#,
        );
        round_trip(
            Request::Now {
                files: vec!["bao-bao.mp3".into()],
                slot: None,
                zones: vec!["thon-1".into(), "thon-3".into()],
                origin: None,
            },
            r#"{"cmd":"now","files":["bao-bao.mp3"],"zones":["thon-1","thon-3"]}"#,
        );
        round_trip(
            Request::Now {
                files: vec!["line-in:default".into()],
                slot: Some("10m".into()),
                zones: vec![],
                origin: None,
            },
            r#"{"cmd":"now","files":["line-in:default"],"for":"10m"}"#,
        );
        round_trip(
            Request::Queue {
                files: vec!["a.mp3".into(), "thông báo.mp3".into()],
                zones: vec![],
            },
            r#"{"cmd":"queue","files":["a.mp3","thông báo.mp3"]}"#,
        );
        round_trip(
            Request::Say {
                text: "Thông báo cắt nước".into(),
                voice: None,
                queue: false,
                repeat: 1,
                zones: vec![],
                origin: None,
            },
            r#"{"cmd":"say","text":"Thông báo cắt nước"}"#,
        );
        round_trip(
            Request::Say {
                text: "Bão số 3".into(),
                voice: Some("vi-VN-x-south".into()),
                queue: true,
                repeat: 2,
                zones: vec!["thon-1".into()],
                origin: Some("c-1".into()),
            },
            r#"{"cmd":"say","text":"Bão số 3","voice":"vi-VN-x-south","queue":true,"repeat":2,"zones":["thon-1"],"origin":"c-1"}"#,
        );
        round_trip(Request::Stop, r#"{"cmd":"stop"}"#);
        round_trip(Request::Skip, r#"{"cmd":"skip"}"#);
        round_trip(Request::Reload, r#"{"cmd":"reload"}"#);
        round_trip(
            Request::Relay {
                on: true,
                zone: None,
            },
            r#"{"cmd":"relay","on":true}"#,
        );
        round_trip(
            Request::Relay {
                on: false,
                zone: Some("thon-2".into()),
            },
            r#"{"cmd":"relay","on":false,"zone":"thon-2"}"#,
        );
    }

    #[test]
    fn unknown_or_incomplete_requests_are_refused() {
        for bad in [
            r#"{"cmd":"play"}"#,
            r#"{"cmd":"now"}"#,
            r#"{"cmd":"relay","on":"yes"}"#,
            r#"{"files":["a.mp3"]}"#,
            r#"status"#,
        ] {
            assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn responses_read_with_or_without_optional_fields() {
        let r: Response = serde_json::from_str(r#"{"ok":true}"#).unwrap();
        assert!(r.ok && r.message.is_none() && r.status.is_none());
        let r: Response = serde_json::from_str(r#"{"ok":false,"message":"no"}"#).unwrap();
        assert_eq!((r.ok, r.message.as_deref()), (false, Some("no")));
        assert_eq!(
            serde_json::to_value(Response::ok("done")).unwrap(),
            json!({"ok": true, "message": "done", "status": null})
        );
    }

    #[test]
    fn status_has_the_documented_fields() {
        let s = Status {
            now: "2026-01-20T06:01:12+07:00".into(),
            timezone: "Asia/Ho_Chi_Minh".into(),
            playing: Some(Playing {
                broadcast: Some("Bản tin sáng".into()),
                file: "tin-tuc.mp3".into(),
                elapsed_s: 72.5,
                total_s: Some(185.0),
                priority: crate::asrun::Priority::Normal,
                index: 2,
                count: 3,
                relay: None,
            }),
            warming_up: None,
            next: Some(NextBroadcast {
                title: None,
                at: "2026-01-20T17:00:00+07:00".into(),
                relay_on: "2026-01-20T16:59:57+07:00".into(),
            }),
            relay: RelayState {
                on: true,
                since: Some("2026-01-20T05:59:57+07:00".into()),
                backend: "sim".into(),
            },
            zones: vec![ZoneStatus {
                name: "thon-1".into(),
                title: "Thôn Đông".into(),
                on: true,
                since: Some("2026-01-20T05:59:57+07:00".into()),
            }],
            district: None,
            clock_synced: true,
            audio_device: "default".into(),
            last_error: None,
            last_error_at: None,
            plan_error: Some("bad".into()),
            playlist: Some("playlists/default.toml".into()),
            today: vec![TodayBroadcast {
                title: Some("Bản tin sáng".into()),
                at: "2026-01-20T06:00:00+07:00".into(),
                status: BroadcastResult::Playing,
            }],
            queued: vec!["a.mp3".into()],
            warnings: vec![],
            archive: Some("3 recordings, 1 MB, kept 180 days.".into()),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            json!({
                "now": "2026-01-20T06:01:12+07:00",
                "timezone": "Asia/Ho_Chi_Minh",
                "playing": {
                    "broadcast": "Bản tin sáng", "file": "tin-tuc.mp3",
                    "elapsed_s": 72.5, "total_s": 185.0, "priority": "normal",
                    "index": 2, "count": 3
                },
                "warming_up": null,
                "next": {
                    "title": null, "at": "2026-01-20T17:00:00+07:00",
                    "relay_on": "2026-01-20T16:59:57+07:00"
                },
                "relay": {"on": true, "since": "2026-01-20T05:59:57+07:00", "backend": "sim"},
                "zones": [{"name": "thon-1", "title": "Thôn Đông", "on": true, "since": "2026-01-20T05:59:57+07:00"}],
                "clock_synced": true,
                "audio_device": "default",
                "last_error": null,
                "last_error_at": null,
                "plan_error": "bad",
                "playlist": "playlists/default.toml",
                "today": [{"title": "Bản tin sáng", "at": "2026-01-20T06:00:00+07:00", "status": "playing"}],
                "queued": ["a.mp3"],
                "warnings": [],
                "archive": "3 recordings, 1 MB, kept 180 days."
            })
        );
        let back: Status = serde_json::from_value(v).unwrap();
        assert_eq!(back.playing.unwrap().index, 2);
        assert_eq!(back.today[0].status, BroadcastResult::Playing);
        // An older daemon that sends fewer fields is still understood.
        let partial: Status = serde_json::from_str(r#"{"now":"x","clock_synced":true}"#).unwrap();
        assert!(partial.clock_synced && partial.today.is_empty());
    }
}
