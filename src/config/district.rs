//! `[district]`: the link from a commune's box to its district over MQTT
//! (src/district). What is checked here is the config alone: the broker's
//! address, the box's name and groups, where the credentials and the CA
//! are. Whether the credentials file is safe to use is checked when the
//! link starts (and by `loa check`).

use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::tomlfile::Walk;
use crate::tr;

/// The broker's address, from `broker = "mqtts://host:8883"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broker {
    /// TLS (`mqtts://`) or plain TCP (`mqtt://`).
    pub tls: bool,
    /// The host name or address.
    pub host: String,
    /// The port (8883 for mqtts, 1883 for mqtt unless given).
    pub port: u16,
}

impl Broker {
    /// Parses `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`.
    pub fn parse(text: &str) -> Option<Broker> {
        let t = text.trim();
        let (tls, rest) = if let Some(r) = t.strip_prefix("mqtts://") {
            (true, r)
        } else if let Some(r) = t.strip_prefix("mqtt://") {
            (false, r)
        } else {
            return None;
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') || rest.contains('@') {
            return None;
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h.to_string(), p.parse::<u16>().ok().filter(|p| *p > 0)?)
            }
            _ => (rest.to_string(), if tls { 8883 } else { 1883 }),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if host.is_empty() || host.chars().any(|c| c.is_whitespace()) {
            return None;
        }
        Some(Broker { tls, host, port })
    }

    /// As written in messages: "mqtts://district.example.vn:8883".
    pub fn url(&self) -> String {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

/// `[district]` as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistrictConfig {
    /// The broker.
    pub broker: Broker,
    /// This box's name (a-z, 0-9, '-'); None on the district's own machine.
    pub box_name: Option<String>,
    /// The groups this box takes commands for.
    pub groups: Vec<String>,
    /// The credentials file (`username`, `password`).
    pub credentials: Option<PathBuf>,
    /// The CA certificate(s) to trust for TLS (PEM); None: the system's.
    pub ca_file: Option<PathBuf>,
    /// The first level of every topic ("loa").
    pub topic_prefix: String,
}

const KEYS: &[&str] = &[
    "broker",
    "box",
    "groups",
    "credentials",
    "ca-file",
    "topic-prefix",
];

/// Whether `name` may name a box, a group or a topic prefix: 1 to 64 of
/// a-z, 0-9 and '-' (no MQTT wildcard, no '/').
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Reads `[district]`; None when it cannot be used (its problems are
/// recorded).
pub fn read_district(
    w: &mut Walk<'_>,
    t: &DeTable<'_>,
    span: &std::ops::Range<usize>,
    dir: &Path,
) -> Option<DistrictConfig> {
    let lang = w.lang;
    w.unknown_keys(t, KEYS, "[district]");
    let broker = match t.get("broker") {
        None => {
            w.error(
                span,
                tr!(
                    lang,
                    "[district] thiếu địa chỉ máy chủ `broker`; ví dụ: broker = \"mqtts://huyen.example.vn:8883\"",
                    "[district] has no `broker`; for example: broker = \"mqtts://district.example.vn:8883\""
                ),
            );
            return None;
        }
        Some(v) => {
            let s = w.string("broker", v, "broker = \"mqtts://huyen.example.vn:8883\"")?;
            match Broker::parse(&s) {
                Some(b) => b,
                None => {
                    w.error(
                        &v.span(),
                        tr!(
                            lang,
                            "`broker` = \"{s}\" không phải địa chỉ MQTT; hãy viết mqtts://TÊN-MÁY:8883 (có mã hóa) hoặc mqtt://TÊN-MÁY:1883.",
                            "`broker` = \"{s}\" is not an MQTT address; write mqtts://HOST:8883 (encrypted) or mqtt://HOST:1883"
                        ),
                    );
                    return None;
                }
            }
        }
    };
    let name_key = |w: &mut Walk<'_>, key: &str, v: &crate::tomlfile::Value<'_>| {
        let s = w.string(key, v, &format!("{key} = \"xa-an-binh\""))?;
        if valid_name(&s) {
            Some(s)
        } else {
            let shown = crate::air::display_name(&s);
            w.error(
                &v.span(),
                tr!(
                    lang,
                    "`{key}` = \"{shown}\" không hợp lệ; chỉ dùng chữ thường không dấu a-z, chữ số và dấu gạch ngang, ví dụ \"xa-an-binh\".",
                    "`{key}` = \"{shown}\" is not valid; use only a-z, 0-9 and '-', such as \"xa-an-binh\""
                ),
            );
            None
        }
    };
    let box_name = t.get("box").and_then(|v| name_key(w, "box", v));
    let mut groups = Vec::new();
    if let Some(v) = t.get("groups")
        && let Some(list) = w.array("groups", v, "groups = [\"huyen-x\", \"ven-bien\"]")
    {
        for g in list {
            if let Some(g) = name_key(w, "groups", g)
                && !groups.contains(&g)
            {
                groups.push(g);
            }
        }
    }
    let path = |w: &mut Walk<'_>, key: &str| -> Option<PathBuf> {
        let v = t.get(key)?;
        let s = w.string(key, v, &format!("{key} = \"/etc/loa/district.secret\""))?;
        let p = PathBuf::from(s.trim());
        Some(if p.is_absolute() { p } else { dir.join(p) })
    };
    let credentials = path(w, "credentials");
    let ca_file = path(w, "ca-file");
    let topic_prefix = t
        .get("topic-prefix")
        .and_then(|v| name_key(w, "topic-prefix", v))
        .unwrap_or_else(|| "loa".into());
    Some(DistrictConfig {
        broker,
        box_name,
        groups,
        credentials,
        ca_file,
        topic_prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_addresses() {
        let b = Broker::parse("mqtts://district.example.vn:8883").unwrap();
        assert_eq!(
            (b.tls, b.host.as_str(), b.port),
            (true, "district.example.vn", 8883)
        );
        assert_eq!(Broker::parse("mqtt://127.0.0.1").unwrap().port, 1883);
        assert_eq!(Broker::parse("mqtts://h").unwrap().port, 8883);
        assert_eq!(
            Broker::parse("mqtt://h:1884/").unwrap().url(),
            "mqtt://h:1884"
        );
        for bad in [
            "http://h",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:x",
            "h:1883",
            "mqtt://u@h",
        ] {
            assert_eq!(Broker::parse(bad), None, "{bad}");
        }
    }
}
