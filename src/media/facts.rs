//! The planner's view of the audio folder: each item name's status (plays,
//! for how long; cannot be aired, and why; still uploading), found and
//! measured on first asking and remembered for the rest of the planning
//! (a week of look-ahead, a year for `loa check`, asks each name once).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use super::{Library, MediaIndex};
use crate::lang::Lang;
use crate::schedule::{MediaFacts, MediaStatus};

/// The audio folder as the planner sees it.
pub struct Facts<'a> {
    library: &'a Library,
    index: &'a MediaIndex,
    lang: Lang,
    /// Files (below the audio folder) not taken up yet: planned with the
    /// length their header announces, validated before they air.
    pending: HashSet<String>,
    known: RefCell<HashMap<String, MediaStatus>>,
    /// The `say` items' renders (`tts::render_ahead`).
    speech: HashMap<crate::tts::Say, MediaStatus>,
}

impl<'a> Facts<'a> {
    /// The view of `library`, with the files' measurements and verdicts
    /// from (and kept in) `index`, and the reasons in `lang`.
    pub fn new(library: &'a Library, index: &'a MediaIndex, lang: Lang) -> Facts<'a> {
        Facts {
            library,
            index,
            lang,
            pending: HashSet::new(),
            known: RefCell::default(),
            speech: HashMap::new(),
        }
    }

    /// With files (paths below the audio folder) whose upload is not taken
    /// up yet.
    pub fn pending(mut self, pending: HashSet<String>) -> Facts<'a> {
        self.pending = pending;
        self
    }
}

impl Facts<'_> {
    /// With the `say` items' renders, as `tts::render_ahead` made them.
    pub fn with_speech(mut self, ahead: &crate::tts::Ahead) -> Self {
        self.speech = ahead.statuses.clone();
        self
    }
}

impl MediaFacts for Facts<'_> {
    fn speech(&self, say: &crate::tts::Say) -> MediaStatus {
        match self.speech.get(say) {
            Some(s) => s.clone(),
            None => MediaStatus::Unplayable(
                self.lang
                    .pick(
                        "Văn bản chưa được chuyển thành giọng đọc.",
                        "the text has not been rendered to speech",
                    )
                    .to_string(),
            ),
        }
    }

    fn status(&self, name: &str) -> MediaStatus {
        if let Some(s) = self.known.borrow().get(name) {
            return s.clone();
        }
        let status = super::status(name, self.library, self.index, self.lang, &self.pending);
        self.known
            .borrow_mut()
            .insert(name.to_string(), status.clone());
        status
    }
}
