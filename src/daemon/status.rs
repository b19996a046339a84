//! What the service says of itself: `loa status` and the status note
//! (TINH-TRANG.txt) kept in the audio folder for the operator.

use super::*;

impl Daemon {
    pub(super) fn status(&self, now: Timestamp) -> Status {
        let tz = &self.cfg.tz;
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let mut today = Vec::new();
        let mut next = None;
        if let Some(plan) = &self.plan {
            for b in &plan.broadcasts {
                let key = broadcast_key(plan.date, b, tz);
                let status = live.results.get(&key).cloned().unwrap_or_default();
                if status == BroadcastResult::Pending && next.is_none() && b.relay_on >= now {
                    next = Some(NextBroadcast {
                        title: b.title.clone(),
                        at: rfc3339(b.at, tz),
                        relay_on: rfc3339(b.relay_on, tz),
                    });
                }
                today.push(TodayBroadcast {
                    title: b.title.clone(),
                    at: rfc3339(b.at, tz),
                    status,
                });
            }
        }
        if next.is_none()
            && let Some(b) = self.later.as_ref().filter(|b| b.relay_on >= now)
        {
            next = Some(NextBroadcast {
                title: b.title.clone(),
                at: rfc3339(b.at, tz),
                relay_on: rfc3339(b.relay_on, tz),
            });
        }
        let mut warnings = Vec::new();
        if let Some(w) = &self.ingest_warning {
            warnings.push(w.clone());
        }
        warnings.extend(self.odd_names.iter().cloned());
        for fs in [&self.cfg.paths.audio, &self.cfg.paths.state] {
            if let Some(free) = crate::media::ingest::free_space(fs)
                && free < self.cfg.ingest.min_free
            {
                let (mb, min) = (free / 1_000_000, self.cfg.ingest.min_free / 1_000_000);
                let shown = display_path(fs);
                let w = tr!(
                    self.cfg.lang,
                    "Đĩa sắp đầy: {shown} chỉ còn trống {mb} MB (cần ít nhất {min} MB), nên loa không nhận thêm tệp tải lên. Hãy xóa bớt tệp âm thanh cũ.",
                    "the disk is nearly full: only {mb} MB free on {shown} (at least {min} MB needed); uploads are not taken up. Delete old audio files."
                );
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
        warnings.extend(self.archive.warning());
        if self.cfg.schedule.require_clock_sync && !self.clock_synced {
            warnings.push(tr!(
                self.cfg.lang,
                "Đồng hồ chưa được đồng bộ: loa sẽ không phát gì cho đến khi có giờ đúng. Hãy kiểm tra kết nối mạng (NTP).",
                "The clock is not synchronised: nothing airs until it is. Check the network (NTP)."
            ));
        }
        Status {
            now: rfc3339(now, tz),
            timezone: self.cfg.timezone_name.clone(),
            playing: live.playing.clone(),
            warming_up: live.warming_up.clone(),
            next,
            relay: RelayState {
                on: self.relay.is_on(),
                since: Some(rfc3339(self.relay.since(), tz)),
                backend: self.cfg.relay.backend.name().to_string(),
            },
            zones: self
                .relay
                .zones()
                .into_iter()
                .map(|z| crate::control::protocol::ZoneStatus {
                    title: crate::config::zone::titles(
                        &self.cfg.zones,
                        std::slice::from_ref(&z.name),
                    )
                    .pop()
                    .unwrap_or_default(),
                    name: z.name,
                    on: z.on,
                    since: Some(rfc3339(z.since, tz)),
                })
                .collect(),
            district: self
                .district
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            clock_synced: self.clock_synced,
            audio_device: self.cfg.audio.device.clone(),
            last_error: live.last_error.as_ref().map(|e| e.message.clone()),
            last_error_at: live.last_error.as_ref().map(|e| rfc3339(e.at, tz)),
            plan_error: self.plan_error.clone(),
            playlist: self
                .plan
                .as_ref()
                .and_then(|p| p.source.as_deref())
                .map(display_path),
            today,
            queued: self
                .queue
                .iter()
                .map(|(q, _)| q.name().to_string())
                .collect(),
            warnings,
            archive: None,
        }
    }

    /// Rewrites TINH-TRANG.txt at the top of the audio folder when what it
    /// says has changed: today's uploads, the coming broadcasts, what needs
    /// attention. For upload-only accounts, which cannot run `loa status`.
    pub(super) fn update_note(&mut self, now: Timestamp) {
        use crate::status_note::{Coming, Note};
        if !self.status_note {
            return;
        }
        let today = self.today(now);
        let tz = self.cfg.tz.clone();
        let st = self.status(now);
        let mut coming: Vec<Coming> = Vec::new();
        if let Some(plan) = &self.plan {
            for b in &plan.broadcasts {
                let key = broadcast_key(plan.date, b, &tz);
                if b.relay_on >= now && !self.attempted.contains(&key) {
                    coming.push(Coming {
                        at: b.at,
                        title: b.title.clone(),
                        items: b.items.len(),
                    });
                }
            }
        }
        if let Some(b) = &self.later
            && coming.is_empty()
        {
            coming.push(Coming {
                at: b.at,
                title: b.title.clone(),
                items: b.items.len(),
            });
        }
        let mut attention = st.warnings.clone();
        attention.extend(st.plan_error.clone());
        attention.extend(st.last_error.clone());
        let note = Note {
            uploads: self
                .uploads_today
                .iter()
                .filter(|u| tz.to_offset(u.at).to_datetime(u.at).date() == today)
                .cloned()
                .collect(),
            coming,
            attention,
        };
        if self.note.as_ref() == Some(&note) {
            return;
        }
        let text = note.render(now, &tz, self.cfg.lang);
        match crate::media::folder::write_atomically(
            &self.cfg.paths.audio,
            std::path::Path::new(crate::status_note::FILE_NAME),
            text.as_bytes(),
        ) {
            Ok(()) => self.note = Some(note),
            Err(e) => {
                if self.note.is_some() {
                    tracing::warn!(error = %e, "{}", crate::lang::log("không ghi được tệp TINH-TRANG.txt", "could not write TINH-TRANG.txt"));
                }
                // Tried again at the next turn only if something changes.
                self.note = Some(note);
            }
        }
    }
}
