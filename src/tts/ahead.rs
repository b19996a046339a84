//! A playlist's `say` items rendered ahead of their broadcasts (when the
//! service re-plans, and by `loa check` and `loa plan`), so that air time
//! never waits for synthesis: what the planner's
//! [`MediaFacts::speech`](crate::schedule::MediaFacts::speech) answers.

use std::collections::HashMap;

use jiff::civil::Date;

use super::{Say, Speaker};
use crate::config::Config;
use crate::playlist::PlaylistSet;
use crate::problem::Problem;
use crate::schedule::MediaStatus;

/// Every `say` item's render: its length and file, or why it has none.
#[derive(Clone, Debug, Default)]
pub struct Ahead {
    /// Each text (and voice) as the planner asks for it.
    pub statuses: HashMap<Say, MediaStatus>,
    /// Warnings at the items' places: Piper could not speak and
    /// espeak-ng's voice did; the installer's abbreviation table is broken.
    pub problems: Vec<Problem>,
}

/// Renders (or finds in the cache) every `say` item of the default
/// playlist and of the dated ones from `from` on (all of them when None).
pub fn render_ahead(cfg: &Config, set: &PlaylistSet, from: Option<Date>) -> Ahead {
    let speaker = Speaker::new(cfg);
    let mut ahead = Ahead::default();
    if let Some(why) = &speaker.table_problem {
        let at = cfg
            .tts
            .abbreviations
            .clone()
            .unwrap_or_else(|| cfg.path.clone());
        ahead
            .problems
            .push(Problem::warning(&at, 1, 1, why.clone()));
    }
    let dated = set
        .dated
        .iter()
        .filter(|(d, _)| from.is_none_or(|f| **d >= f))
        .map(|(_, p)| p);
    let index = crate::media::MediaIndex::open(&cfg.paths.state)
        .unwrap_or_else(|_| crate::media::MediaIndex::in_memory());
    let library = crate::media::Library::empty(&cfg.paths.audio);
    for pl in set.default.iter().chain(dated) {
        let items = pl
            .broadcasts
            .iter()
            .flat_map(|b| &b.items)
            .chain(&pl.unplanned_items);
        for it in items {
            let Some(say) = &it.say else { continue };
            if ahead.statuses.contains_key(say) {
                continue;
            }
            let status = match speaker.render(say) {
                Ok(r) => {
                    if let Some(note) = &r.fell_back {
                        ahead.problems.push(Problem::warning(
                            &pl.path,
                            it.pos.line,
                            it.pos.column,
                            note.clone(),
                        ));
                    }
                    let shown = r.path.display().to_string();
                    match crate::media::find_and_probe(&shown, &library, &index, cfg.lang) {
                        Ok((_, probe)) => MediaStatus::Playable {
                            duration: probe.duration,
                            path: shown,
                        },
                        Err(why) => MediaStatus::Unplayable(why),
                    }
                }
                Err(why) => MediaStatus::Unplayable(why),
            };
            ahead.statuses.insert(say.clone(), status);
        }
    }
    let keep: std::collections::HashSet<std::path::PathBuf> = ahead
        .statuses
        .values()
        .filter_map(|s| match s {
            MediaStatus::Playable { path, .. } => Some(std::path::PathBuf::from(path)),
            _ => None,
        })
        .collect();
    speaker.prune(&keep);
    ahead
}
