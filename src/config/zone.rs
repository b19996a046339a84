//! `[[zone]]`: the hamlets' speaker lines (thôn, bản, ấp), each switched by
//! a relay of its own on the `[relay]` chip, with the same backend. What is
//! checked here is the config alone: names, lines, duplicates and a line
//! shared with the amplifier. Which broadcasts go to which zones is the
//! planner's (`schedule`), and the switching order is the airing
//! sequence's (`air`).

use std::collections::BTreeMap;

use toml::de::DeTable;

use super::{LineSpec, RelayConfig};
use crate::tomlfile::{Value, Walk};
use crate::tr;

/// One hamlet's speaker line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// What playlists and commands use: a-z, 0-9 and '-'.
    pub name: String,
    /// What the operator reads ("Thôn Đông"); the name when not given.
    pub title: String,
    /// The GPIO line on `[relay] chip`.
    pub line: LineSpec,
    /// Its own polarity; `None`: `[relay] active-low`.
    pub active_low: Option<bool>,
}

impl Zone {
    /// The relay settings that drive this zone's line: the amplifier's
    /// backend, chip and file, with this zone's line and polarity.
    pub fn relay_config(&self, relay: &RelayConfig) -> RelayConfig {
        RelayConfig {
            line: self.line.clone(),
            active_low: self.active_low.unwrap_or(relay.active_low),
            ..relay.clone()
        }
    }
}

const ZONE_KEYS: &[&str] = &["name", "title", "line", "active-low"];
const EXAMPLE: &str = "[[zone]]\nname = \"thon-1\"\ntitle = \"Thôn Đông\"\nline = 22";

/// Whether `name` may name a zone: 1 to 32 of a-z, 0-9 and '-', not
/// starting or ending with '-'.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Reads the `[[zone]]` array of tables, checking each zone and the set
/// (duplicate names, duplicate lines, a zone on the amplifier's line).
/// Zones with problems are left out, so that what remains can be used.
pub fn read_zones(w: &mut Walk<'_>, v: &Value<'_>, relay: &RelayConfig) -> Vec<Zone> {
    let lang = w.lang;
    let Some(list) = w.array("zone", v, EXAMPLE) else {
        return Vec::new();
    };
    let mut zones: Vec<Zone> = Vec::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_line: BTreeMap<String, String> = BTreeMap::new();
    for (i, entry) in list.iter().enumerate() {
        let n = i + 1;
        let section = tr!(lang, "vùng thứ {n} ([[zone]])", "zone #{n} ([[zone]])");
        let Some(t) = w.table("zone", entry, EXAMPLE) else {
            continue;
        };
        let Some(zone) = read_zone(w, t, entry, &section) else {
            continue;
        };
        let span = t.get("name").map_or(entry.span(), |v| v.span());
        if by_name.contains_key(&zone.name) {
            let name = &zone.name;
            w.error(
                &span,
                tr!(
                    lang,
                    "Tên vùng \"{name}\" bị trùng: mỗi [[zone]] phải có một tên riêng.",
                    "zone name \"{name}\" is used twice: each [[zone]] needs a name of its own"
                ),
            );
            continue;
        }
        let line_span = t.get("line").map_or(entry.span(), |v| v.span());
        let key = line_key(&zone.line);
        if key == line_key(&relay.line) {
            let (name, line) = (&zone.name, line_text(&zone.line));
            w.error(
                &line_span,
                tr!(
                    lang,
                    "Vùng \"{name}\" dùng chân {line}, cũng là chân của ampli ([relay] line); mỗi vùng cần một chân GPIO riêng, khác chân của ampli.",
                    "zone \"{name}\" is on line {line}, which is the amplifier's own ([relay] line); each zone needs a GPIO line of its own, not the amplifier's"
                ),
            );
            continue;
        }
        if let Some(other) = by_line.get(&key) {
            let (name, line) = (&zone.name, line_text(&zone.line));
            w.error(
                &line_span,
                tr!(
                    lang,
                    "Vùng \"{name}\" dùng chân {line}, mà vùng \"{other}\" đã dùng; mỗi vùng cần một chân GPIO riêng.",
                    "zone \"{name}\" is on line {line}, which zone \"{other}\" already uses; each zone needs a GPIO line of its own"
                ),
            );
            continue;
        }
        by_name.insert(zone.name.clone(), zones.len());
        by_line.insert(key, zone.name.clone());
        zones.push(zone);
    }
    zones
}

/// One `[[zone]]` table; None when it cannot be used (its problems are
/// recorded).
fn read_zone(w: &mut Walk<'_>, t: &DeTable<'_>, entry: &Value<'_>, section: &str) -> Option<Zone> {
    let lang = w.lang;
    w.unknown_keys(t, ZONE_KEYS, section);
    let name = match t.get("name") {
        Some(v) => {
            let name = w.string("name", v, "name = \"thon-1\"")?;
            if !valid_name(&name) {
                let shown = crate::air::display_name(&name);
                w.error(
                    &v.span(),
                    tr!(
                        lang,
                        "Tên vùng \"{shown}\" không hợp lệ; tên chỉ gồm chữ thường không dấu a-z, chữ số và dấu gạch ngang, ví dụ \"thon-1\" hoặc \"ban-na-hu\" (tên có dấu để đọc thì ghi vào title).",
                        "zone name \"{shown}\" is not valid; use only a-z, 0-9 and '-', such as \"thon-1\" (the name to read, with its diacritics, goes in title)"
                    ),
                );
                return None;
            }
            name
        }
        None => {
            w.error(
                &entry.span(),
                tr!(
                    lang,
                    "Thiếu tên `name` trong {section}; hãy thêm vào, ví dụ: name = \"thon-1\"",
                    "{section} has no `name`; add one, for example: name = \"thon-1\""
                ),
            );
            return None;
        }
    };
    let title = match t.get("title") {
        Some(v) => w
            .string("title", v, "title = \"Thôn Đông\"")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| name.clone()),
        None => name.clone(),
    };
    let line = match t.get("line") {
        Some(v) => super::line_value(w, v)?,
        None => {
            w.error(
                &entry.span(),
                tr!(
                    lang,
                    "Thiếu chân GPIO `line` của vùng \"{name}\"; hãy thêm vào, ví dụ: line = 22",
                    "zone \"{name}\" has no GPIO `line`; add one, for example: line = 22"
                ),
            );
            return None;
        }
    };
    let active_low = t.get("active-low").and_then(|v| w.boolean("active-low", v));
    Some(Zone {
        name,
        title,
        line,
        active_low,
    })
}

/// Two specs for the same line compare equal here ("22" and 22).
fn line_key(l: &LineSpec) -> String {
    match l {
        LineSpec::Offset(n) => n.to_string(),
        LineSpec::Name(s) => s.clone(),
    }
}

fn line_text(l: &LineSpec) -> String {
    match l {
        LineSpec::Offset(n) => n.to_string(),
        LineSpec::Name(s) => format!("\"{s}\""),
    }
}

/// The zones a command or a request names, checked against the config, in
/// the config's order: every zone when none is named (and none at all when
/// no zone is configured). Err: what is wrong, for the operator (an
/// unknown name with the nearest one, or zones named where none exist).
pub fn resolve(
    zones: &[Zone],
    asked: &[String],
    lang: crate::lang::Lang,
) -> Result<Vec<String>, String> {
    if asked.is_empty() {
        return Ok(zones.iter().map(|z| z.name.clone()).collect());
    }
    if zones.is_empty() {
        let name = crate::air::display_name(&asked[0]);
        return Err(tr!(
            lang,
            "Không có vùng \"{name}\": tệp cấu hình chưa khai báo vùng nào ([[zone]]), nên mọi buổi phát đều phát cho cả xã; hãy bỏ --zone, hoặc khai báo các vùng trước.",
            "there is no zone \"{name}\": the config declares no zones ([[zone]]), so everything airs to the whole commune; leave out --zone, or declare the zones first"
        ));
    }
    for a in asked {
        if !zones.iter().any(|z| &z.name == a) {
            return Err(unknown_message(zones, a, lang));
        }
    }
    Ok(zones
        .iter()
        .filter(|z| asked.contains(&z.name))
        .map(|z| z.name.clone())
        .collect())
}

/// "There is no zone X; did you mean Y? The zones are: ..." in `lang`.
pub fn unknown_message(zones: &[Zone], name: &str, lang: crate::lang::Lang) -> String {
    let shown = crate::air::display_name(name);
    let list = zones
        .iter()
        .map(|z| {
            if z.title == z.name {
                z.name.clone()
            } else {
                format!("{} ({})", z.name, z.title)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    match crate::tomlfile::nearest(name, zones.iter().map(|z| z.name.as_str())) {
        Some(near) => tr!(
            lang,
            "Không có vùng \"{shown}\"; có phải là \"{near}\" không? Các vùng đã khai báo: {list}.",
            "there is no zone \"{shown}\"; did you mean \"{near}\"? The zones declared are: {list}"
        ),
        None => tr!(
            lang,
            "Không có vùng \"{shown}\". Các vùng đã khai báo: {list}.",
            "there is no zone \"{shown}\". The zones declared are: {list}"
        ),
    }
}

/// The titles of `names`, in order, for what the operator reads ("Thôn
/// Đông, Thôn Bắc"); a name not declared is shown as it is.
pub fn titles(zones: &[Zone], names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            zones
                .iter()
                .find(|z| &z.name == n)
                .map_or_else(|| n.clone(), |z| z.title.clone())
        })
        .collect()
}
