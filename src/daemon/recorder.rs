//! What a broadcast leaves behind as it airs: its as-run rows, written as
//! each item starts and ends, and the live status `loa status` shows (what
//! plays, the warm-up, the last error and what it concerns).

use super::*;

/// What is known of the broadcast being aired, for the as-run log.
#[derive(Clone, Debug)]
pub(super) struct Meta {
    pub(super) day: Date,
    pub(super) key: String,
    pub(super) title: Option<String>,
    pub(super) tags: Vec<String>,
    /// Per item: (planned start, priority).
    pub(super) scheduled: Vec<(Option<Timestamp>, Priority)>,
    pub(super) late: bool,
    pub(super) clock_synced: bool,
}

/// The status shared between the loop, the airing thread and `loa status`.
#[derive(Default)]
pub(super) struct Live {
    pub(super) playing: Option<Playing>,
    pub(super) warming_up: Option<WarmingUp>,
    pub(super) last_error: Option<LastError>,
    /// Broadcast key -> status word for today's list.
    pub(super) results: HashMap<String, BroadcastResult>,
}

/// The last thing that went wrong, with when and what it concerns, so that
/// it can be cleared once its cause is gone (the file was replaced or
/// removed, the sound device played again...).
#[derive(Clone, Debug)]
pub(super) struct LastError {
    pub(super) message: String,
    pub(super) at: Timestamp,
    pub(super) cause: Cause,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Cause {
    /// A file below the audio folder (its name there).
    File(String),
    /// The sound device.
    Device,
    /// Writing the as-run log.
    Log,
    /// Switching the relay.
    Relay,
}

impl Live {
    pub(super) fn error(&mut self, cause: Cause, message: String) {
        self.last_error = Some(LastError {
            message,
            at: Timestamp::now(),
            cause,
        });
    }

    /// Forgets the last error if `gone` says its cause is gone.
    pub(super) fn clear_if(&mut self, gone: impl Fn(&Cause) -> bool) {
        if self.last_error.as_ref().is_some_and(|e| gone(&e.cause)) {
            self.last_error = None;
        }
    }
}

/// Records what happens while a broadcast airs: as-run rows and the live
/// status.
pub(super) struct Recorder {
    pub(super) asrun: Arc<Mutex<AsRun>>,
    pub(super) live: Arc<Mutex<Live>>,
    pub(super) meta: Meta,
    pub(super) items: Vec<AirItem>,
    pub(super) rows: HashMap<usize, i64>,
    pub(super) lang: Lang,
    /// For `loa status` while the amplifier warms up.
    pub(super) warm_up: Duration,
    pub(super) tz: jiff::tz::TimeZone,
    /// Where broadcasts are recorded.
    pub(super) archive: Arc<crate::archive::Archive>,
    /// This broadcast's recording, while it airs: dropped with the
    /// recorder, which closes the file.
    pub(super) recording: Option<crate::archive::Recording>,
}

impl Recorder {
    /// What to do once the recording's file is closed: its hash into the
    /// as-run log (row `row`, set once written), and the log.
    fn on_archive_closed(&self, row: Arc<std::sync::OnceLock<i64>>) -> crate::archive::OnClose {
        let (asrun, status, lang) = (self.asrun.clone(), self.archive.status.clone(), self.lang);
        Box::new(move |result| {
            let asrun = asrun.lock().unwrap_or_else(|e| e.into_inner());
            let written = match (result, row.get()) {
                (Ok(Some(c)), id) => {
                    tracing::info!(file = %c.path.display(), seconds = c.duration.as_secs_f64(), bytes = c.bytes, sha256 = %c.sha256, "{}", crate::lang::log("đã đóng bản ghi buổi phát", "broadcast recording closed"));
                    if !c.dropped.is_zero() {
                        tracing::warn!(file = %c.path.display(), missing_ms = c.dropped.as_millis() as u64, "{}", crate::lang::log("bộ mã hóa chậm: bản ghi thiếu một đoạn âm thanh", "the encoder fell behind: the recording lacks some sound"));
                    }
                    id.map(|id| {
                        asrun.archive_closed(*id, c.duration, c.bytes, &c.sha256, c.dropped)
                    })
                }
                (Ok(None), id) => id.map(|id| asrun.archive_forget(*id)),
                (Err(e), _) => {
                    tracing::error!(error = %e, "{}", crate::lang::log("bản ghi buổi phát bị lỗi", "the broadcast recording failed"));
                    crate::archive::Archive::failed(&status, e.message(lang));
                    None
                }
            };
            if let Some(Err(e)) = written {
                tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"));
            }
        })
    }

    pub(super) fn record(&self, index: usize, started: Option<Timestamp>) -> ItemRecord {
        let (scheduled, priority) = self
            .meta
            .scheduled
            .get(index)
            .cloned()
            .unwrap_or((None, Priority::Normal));
        ItemRecord {
            day: self.meta.day,
            broadcast_key: self.meta.key.clone(),
            broadcast: self.meta.title.clone(),
            tags: self.meta.tags.clone(),
            file: self.items[index].name.clone(),
            sha256: self.items[index].sha256.clone(),
            scheduled,
            started,
            ended: None,
            status: RowStatus::Interrupted,
            priority,
            error: None,
            clock_synced: self.meta.clock_synced,
            late: self.meta.late,
            kind: self.items[index].kind(),
            aired_ms: None,
            zones: self.items[index].zones.clone(),
        }
    }

    pub(super) fn lock_live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AirEvents for Recorder {
    fn relay(&mut self, on: bool, at: Timestamp) {
        let warm = self.warm_up;
        let tz = self.tz.clone();
        let title = self.meta.title.clone();
        let mut live = self.lock_live();
        live.warming_up = on.then(|| WarmingUp {
            broadcast: title,
            since: rfc3339(at, &tz),
            until: rfc3339(ts_after(at, warm), &tz),
        });
    }

    fn item_started(&mut self, index: usize, item: &AirItem, at: Timestamp) {
        let rec = self.record(index, Some(at));
        match self
            .asrun
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .item_started(&rec)
        {
            Ok(id) => {
                self.rows.insert(index, id);
            }
            Err(e) => {
                tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"));
                self.lock_live().error(Cause::Log, e.message(self.lang));
            }
        }
        tracing::info!(broadcast = ?self.meta.title, file = %item.name, "{}", crate::lang::log("bắt đầu phát tệp", "item started"));
        let priority = rec.priority;
        let mut live = self.lock_live();
        live.warming_up = None;
        live.playing = Some(Playing {
            broadcast: self.meta.title.clone(),
            file: item.name.clone(),
            elapsed_s: 0.0,
            total_s: item.duration.map(|d| d.as_secs_f64()),
            priority,
            // 1-based: the first of four is "1 of 4".
            index: index + 1,
            count: self.items.len(),
            relay: item.live_state().map(|l| l.state.info()),
        });
    }

    fn progress(&mut self, _index: usize, item: &AirItem, elapsed: Duration) {
        if let Some(p) = &mut self.lock_live().playing {
            p.elapsed_s = elapsed.as_secs_f64();
            p.relay = item.live_state().map(|l| l.state.info());
        }
    }

    fn item_ended(&mut self, index: usize, item: &AirItem, report: &ItemReport) {
        // A live item: the programme it aired, and what went wrong even
        // when it counts as played (backup, fallback, silence).
        let live = item.live_state().map(|l| l.state.info());
        let aired_ms = live.as_ref().map(|i| (i.aired_s * 1000.0).round() as i64);
        let faults = live
            .as_ref()
            .filter(|i| !i.faults.is_empty())
            .map(|i| i.faults.join("; "));
        let (status, error) = match &report.outcome {
            Outcome::Played => (RowStatus::Played, faults),
            Outcome::Failed(m) => (RowStatus::Failed, Some(m.clone())),
            Outcome::Interrupted(why) => (RowStatus::Interrupted, Some(why.clone())),
            Outcome::Skipped => (RowStatus::Skipped, None),
            Outcome::NotAired(why) => (RowStatus::Skipped, Some(why.clone())),
        };
        let asrun = self.asrun.lock().unwrap_or_else(|e| e.into_inner());
        let result = match self.rows.get(&index) {
            Some(id) => asrun
                .item_ended(
                    *id,
                    report.ended.unwrap_or_else(Timestamp::now),
                    status,
                    error.as_deref(),
                )
                .and_then(|()| match aired_ms {
                    Some(ms) => asrun.live_aired(*id, ms),
                    None => Ok(()),
                }),
            None => {
                let mut rec = self.record(index, report.started);
                rec.ended = report.ended;
                rec.status = status;
                rec.error = error.clone();
                rec.aired_ms = aired_ms;
                asrun.record(&rec).map(|_| ())
            }
        };
        drop(asrun);
        let mut live = self.lock_live();
        match result {
            Err(e) => {
                tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"));
                live.error(Cause::Log, e.message(self.lang));
            }
            Ok(()) => live.clear_if(|c| *c == Cause::Log),
        }
        if let Some(err) = &error
            && matches!(report.outcome, Outcome::Failed(_))
        {
            tracing::warn!(file = %item.name, error = %err, "{}", crate::lang::log("tệp không được phát", "item not aired"));
            live.error(
                Cause::File(item.name.clone()),
                format!("{}: {err}", item.name),
            );
        }
        // Played whole: what was wrong with this file, or with the sound
        // device, is gone.
        if report.outcome == Outcome::Played {
            let name = item.name.clone();
            live.clear_if(|c| *c == Cause::Device || *c == Cause::File(name.clone()));
        }
        drop(live);
        self.lock_live().playing = None;
    }

    fn archive(&mut self, at: Timestamp) -> Option<crate::archive::Tap> {
        let row = Arc::new(std::sync::OnceLock::new());
        let on_close = self.on_archive_closed(row.clone());
        let (recording, tap) = match self.archive.start(&self.meta.key, at, on_close)? {
            Ok(started) => started,
            Err(e) => {
                tracing::error!(error = %e, "{}", crate::lang::log("không ghi lại được buổi phát", "the broadcast cannot be recorded"));
                crate::archive::Archive::failed(&self.archive.status, e.message(self.lang));
                return None;
            }
        };
        let rel = crate::archive::relative_to_state(&recording.path, &self.archive.state);
        let asrun = self.asrun.lock().unwrap_or_else(|e| e.into_inner());
        match asrun.archive_started(&self.meta.key, self.meta.day, &rel, at) {
            Ok(id) => {
                let _ = row.set(id);
            }
            Err(e) => {
                tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"));
            }
        }
        drop(asrun);
        self.recording = Some(recording);
        Some(tap)
    }

    fn device_error(&mut self, error: &crate::player::AudioError) {
        tracing::error!(error = %error, "{}", crate::lang::log("lỗi thiết bị âm thanh", "sound device"));
        self.lock_live()
            .error(Cause::Device, error.message(self.lang));
    }
}

/// One word for a broadcast's outcome from its items' statuses.
pub(super) fn summarize(statuses: &[RowStatus]) -> BroadcastResult {
    let played = statuses.iter().filter(|s| **s == RowStatus::Played).count();
    if statuses.is_empty() {
        BroadcastResult::Pending
    } else if statuses.iter().all(|s| *s == RowStatus::Missed) {
        BroadcastResult::Missed
    } else if played == statuses.len() {
        BroadcastResult::Aired
    } else if played > 0 {
        BroadcastResult::Partial
    } else if statuses.iter().all(|s| *s == RowStatus::Skipped) {
        BroadcastResult::Skipped
    } else {
        BroadcastResult::Failed
    }
}
