//! The topics and the JSON of the district link. Other programs (the
//! district's tools, the province's) read these: change them only by
//! adding optional fields.
//!
//! Topics, under `PREFIX` (`[district] topic-prefix`, "loa"):
//! - `PREFIX/BOX/online`: retained, "online"; the broker's last will sets
//!   "offline".
//! - `PREFIX/BOX/status`: retained, the JSON of `loa status --json` plus
//!   "box" and "groups".
//! - `PREFIX/BOX/asrun`: each as-run row, the JSON of a `loa log --json`
//!   row plus "box" (its "id" is the box's row id), in order.
//! - `PREFIX/BOX/cmd`, `PREFIX/all/cmd`, `PREFIX/group/GROUP/cmd`: a
//!   [`Command`].
//! - `PREFIX/BOX/ack`: an [`Ack`] per command.

use serde::{Deserialize, Serialize};

/// The largest audio file a command may carry.
pub const MAX_MEDIA: usize = 8 * 1024 * 1024;

/// The topics under one prefix.
#[derive(Clone, Debug)]
pub struct Topics {
    /// `[district] topic-prefix`.
    pub prefix: String,
}

impl Topics {
    /// Topics under `prefix`.
    pub fn new(prefix: &str) -> Topics {
        Topics {
            prefix: prefix.to_string(),
        }
    }
    /// `PREFIX/BOX/online`.
    pub fn online(&self, box_name: &str) -> String {
        format!("{}/{box_name}/online", self.prefix)
    }
    /// `PREFIX/BOX/status`.
    pub fn status(&self, box_name: &str) -> String {
        format!("{}/{box_name}/status", self.prefix)
    }
    /// `PREFIX/BOX/asrun`.
    pub fn asrun(&self, box_name: &str) -> String {
        format!("{}/{box_name}/asrun", self.prefix)
    }
    /// `PREFIX/BOX/ack`.
    pub fn ack(&self, box_name: &str) -> String {
        format!("{}/{box_name}/ack", self.prefix)
    }
    /// `PREFIX/BOX/cmd`.
    pub fn cmd(&self, box_name: &str) -> String {
        format!("{}/{box_name}/cmd", self.prefix)
    }
    /// `PREFIX/all/cmd`.
    pub fn all_cmd(&self) -> String {
        format!("{}/all/cmd", self.prefix)
    }
    /// `PREFIX/group/GROUP/cmd`.
    pub fn group_cmd(&self, group: &str) -> String {
        format!("{}/group/{group}/cmd", self.prefix)
    }
    /// Which box a topic `PREFIX/BOX/LEAF` is about, and its leaf
    /// ("online", "status", "asrun", "ack"); None for other topics.
    pub fn split<'t>(&self, topic: &'t str) -> Option<(&'t str, &'t str)> {
        let rest = topic.strip_prefix(&self.prefix)?.strip_prefix('/')?;
        let (b, leaf) = rest.split_once('/')?;
        (b != "all" && b != "group" && !leaf.contains('/')).then_some((b, leaf))
    }
}

/// What a command asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandKind {
    /// Air at once, as an emergency (`loa now`).
    Now,
    /// Air first in the next broadcast (`loa queue`).
    Queue,
    /// End the broadcast on air (`loa stop`).
    Stop,
    /// Take a playlist file (checked as `loa check` would).
    Playlist,
}

/// An audio file carried in a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Its file name in the audio folder (no folder, no `..`).
    pub name: String,
    /// The SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Its bytes, base64 (standard alphabet, padded).
    pub data_b64: String,
}

/// A playlist pushed by the district.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedPlaylist {
    /// `default.toml` or `YYYY-MM-DD.toml`.
    pub name: String,
    /// The playlist's text.
    pub text: String,
}

/// A command from the district.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Unique per command: a box carries out an id once.
    pub id: String,
    /// What to do.
    pub command: CommandKind,
    /// The files to air (names in the audio folder, or carried in `media`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// The zones to air to; empty: every zone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    /// RFC 3339: past this, the command is never carried out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Audio carried with the command, each up to 8 MB.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
    /// The playlist, for `playlist`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playlist: Option<PushedPlaylist>,
    /// A text each box reads aloud itself (with `now` or `queue`, instead
    /// of `files`): a few hundred bytes where audio would be megabytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub say: Option<String>,
    /// The voice for `say` (`vi`, `vi-VN-x-central`, `vi-VN-x-south`);
    /// None: each box's `[tts] voice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
}

/// How a box took a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AckStatus {
    /// Taken: it airs (or was queued, stopped, stored).
    Accepted,
    /// An emergency that has been played (with its as-run rows).
    Aired,
    /// Refused, with the reason in `error`.
    Rejected,
    /// Past its `expires`: never carried out.
    Expired,
    /// An id already carried out: not again.
    Duplicate,
}

impl AckStatus {
    /// The word in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AckStatus::Accepted => "accepted",
            AckStatus::Aired => "aired",
            AckStatus::Rejected => "rejected",
            AckStatus::Expired => "expired",
            AckStatus::Duplicate => "duplicate",
        }
    }
}

/// A box's answer to a command, on `PREFIX/BOX/ack`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    /// The command's id.
    pub id: String,
    /// How it was taken.
    pub status: AckStatus,
    /// Why it was refused or did not all air, in the box's language.
    #[serde(default)]
    pub error: Option<String>,
    /// When (RFC 3339, the box's offset).
    pub at: String,
    /// The box that answers.
    #[serde(default)]
    pub r#box: String,
    /// For "aired": the emergency's as-run rows (`loa log --json` rows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn topics_and_their_parts() {
        let t = Topics::new("loa");
        assert_eq!(t.online("xa-an-binh"), "loa/xa-an-binh/online");
        assert_eq!(t.group_cmd("ven-bien"), "loa/group/ven-bien/cmd");
        assert_eq!(
            t.split("loa/xa-an-binh/asrun"),
            Some(("xa-an-binh", "asrun"))
        );
        assert_eq!(t.split("loa/all/cmd"), None);
        assert_eq!(t.split("loa/group/x/cmd"), None);
        assert_eq!(t.split("other/x/status"), None);
    }

    #[test]
    fn a_command_reads_as_the_issue_writes_it() {
        let c: Command = serde_json::from_value(json!({
            "id": "bao-so-3",
            "command": "now",
            "files": ["bao.mp3"],
            "zones": ["thon-1"],
            "expires": "2026-09-01T10:00:00+07:00",
            "media": [{"name": "bao.mp3", "sha256": "ab", "data_b64": "AAAA"}]
        }))
        .unwrap();
        assert_eq!(c.command, CommandKind::Now);
        assert_eq!(c.media[0].name, "bao.mp3");
        let p: Command = serde_json::from_value(json!({
            "id": "p1", "command": "playlist",
            "playlist": {"name": "2026-02-01.toml", "text": "[[broadcast]]"}
        }))
        .unwrap();
        assert_eq!(p.playlist.unwrap().name, "2026-02-01.toml");
        assert!(
            serde_json::from_value::<Command>(json!({"id": "x", "command": "reboot"})).is_err()
        );
        let a = Ack {
            id: "bao-so-3".into(),
            status: AckStatus::Expired,
            error: None,
            at: "2026-09-01T10:00:01+07:00".into(),
            r#box: "xa-an-binh".into(),
            rows: vec![],
        };
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"id": "bao-so-3", "status": "expired", "error": null,
                   "at": "2026-09-01T10:00:01+07:00", "box": "xa-an-binh"})
        );
    }
}
