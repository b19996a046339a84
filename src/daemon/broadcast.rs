//! Starting a broadcast (scheduled or an emergency): its items found and
//! measured, its timeline by the planner's rule, the airing sequence
//! spawned with the recorder; and what its report means once it ends.

use super::*;

impl Daemon {
    /// Items for files named over the control socket (queue, emergency):
    /// names in the audio folder only.
    pub(super) fn resolve_files(&self, files: &[String]) -> Vec<AirItem> {
        crate::air::prepare_named(&self.cfg, files)
    }

    /// As [`Self::resolve_files`], with live programmes for `slot` (`loa now
    /// --for`).
    pub(super) fn resolve_requested(
        &self,
        files: &[String],
        slot: Option<std::time::Duration>,
    ) -> Vec<AirItem> {
        crate::air::prepare_requested(&self.cfg, files, slot)
    }

    /// Checks the names sent with `now` or `queue`: each must be a file in
    /// the audio folder (no path, no `..`, no link) that passes validation.
    /// The message lists every name that does not, with the nearest name.
    pub(super) async fn check_names(
        &self,
        files: &[String],
        slot: Option<std::time::Duration>,
    ) -> Result<(), String> {
        let lang = self.cfg.lang;
        if files.is_empty() {
            return Err(tr!(
                lang,
                "Chưa ghi tên tệp nào nên không có gì được phát.",
                "No file was named; nothing was aired."
            ));
        }
        let items = {
            let cfg = self.cfg.clone();
            let files = files.to_vec();
            tokio::task::spawn_blocking(move || crate::air::prepare_requested(&cfg, &files, slot))
                .await
                .unwrap_or_default()
        };
        let bad: Vec<String> = items
            .iter()
            .filter_map(|i| i.source.as_ref().err().cloned())
            .collect();
        if bad.is_empty() && !items.is_empty() {
            return Ok(());
        }
        Err(tr!(
            lang,
            "Lệnh bị từ chối, không có gì được phát. {}",
            "Refused, nothing was aired: {}",
            bad.join(lang.pick(" ", "; "))
        ))
    }

    /// The timing rule for a broadcast with this gap between items.
    pub(super) fn timing(&self, gap: Duration) -> Timing {
        Timing {
            warm_up: self.cfg.relay.warm_up,
            gap,
            hold: self.cfg.relay.hold,
        }
    }

    pub(super) async fn start_broadcast(
        &mut self,
        plan: &DayPlan,
        index: usize,
        late: bool,
        now: Timestamp,
    ) {
        let b = &plan.broadcasts[index];
        let key = broadcast_key(plan.date, b, &self.cfg.tz);
        self.attempted.insert(key.clone());
        let cfg = self.cfg.clone();
        // Priority files first, then the broadcast's own items.
        let queued = std::mem::take(&mut self.queue);
        let mut items: Vec<AirItem> = queued
            .iter()
            .map(|(q, zones)| match q {
                Queued::File(f) => self
                    .resolve_files(std::slice::from_ref(f))
                    .pop()
                    .unwrap_or_else(|| AirItem::failed(f, String::new()))
                    .to_zones(zones),
                Queued::Speech(item) => item.as_ref().clone().to_zones(zones),
            })
            .collect();
        let mut scheduled: Vec<(Option<Timestamp>, Priority)> =
            items.iter().map(|_| (None, Priority::Priority)).collect();
        let library =
            Library::scan(&cfg.paths.audio).unwrap_or_else(|_| Library::empty(&cfg.paths.audio));
        let media_index =
            MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
        let mut speaker: Option<crate::tts::Speaker> = None;
        for it in &b.items {
            if let Some(live) = &it.live {
                let fallback = match &live.source {
                    crate::live::LiveSource::Stream {
                        fallback: Some(f), ..
                    } => Some(
                        crate::media::find_and_probe(f, &library, &media_index, cfg.lang)
                            .map(|(p, _)| p),
                    ),
                    _ => None,
                };
                items.push(
                    AirItem::live(&it.file, live.clone(), fallback, &cfg.audio, it.volume_db)
                        .to_zones(&b.zones),
                );
                scheduled.push((Some(it.start), Priority::Normal));
                continue;
            }
            if let Some(say) = &it.say {
                // Rendered when the day was planned: found in the cache.
                let sp = speaker.get_or_insert_with(|| crate::tts::Speaker::new(&cfg));
                let (item, note) = crate::tts::air_item(&cfg, sp, say, it.volume_db);
                if let Some(n) = note {
                    tracing::warn!(problem = %n, "{}", crate::lang::log("vấn đề khi đọc văn bản", "text to speech problem"));
                }
                items.push(item.to_zones(&b.zones));
                scheduled.push((Some(it.start), Priority::Normal));
                continue;
            }
            let probed = if self.not_ready(&it.path) {
                Err(crate::media::not_ready_message(&it.file, cfg.lang))
            } else {
                crate::media::find_and_probe(&it.path, &library, &media_index, cfg.lang)
            };
            items.push(
                AirItem::from_found(&it.file, probed, &cfg.audio, it.volume_db).to_zones(&b.zones),
            );
            scheduled.push((Some(it.start), Priority::Normal));
        }
        // Files that cannot be aired are recorded failed, with the reason.
        for (file, why) in &b.skipped {
            items.push(AirItem::failed(file, why.clone()).to_zones(&b.zones));
            scheduled.push((None, Priority::Normal));
        }
        tracing::info!(broadcast = %key, title = ?b.title, late, items = items.len(), "{}", crate::lang::log("bắt đầu buổi phát", "broadcast starting"));
        let meta = Meta {
            day: plan.date,
            key: key.clone(),
            title: b.title.clone(),
            tags: b.tags.clone(),
            scheduled,
            late,
            clock_synced: self.clock_synced,
        };
        // The relay stays on into the next broadcast if this one overruns.
        let next_on = plan
            .broadcasts
            .iter()
            .filter(|x| {
                x.relay_on > b.relay_on
                    && !self
                        .attempted
                        .contains(&broadcast_key(plan.date, x, &cfg.tz))
            })
            .map(|x| x.relay_on)
            .min();
        let clock = self.deps_clock.clone();
        let keep_on: Arc<dyn Fn() -> bool + Send + Sync> =
            Arc::new(move || next_on.is_some_and(|t| clock.now() >= t));
        let _ = now;
        // Prepared ahead: the relay goes on at its planned time, the first
        // item starts at its time (the priority files first, so the
        // timeline is the planner's rule over what airs).
        let timeline = Timeline::from_relay_on(b.relay_on, &durations(&items), self.timing(b.gap));
        self.launch(items, meta, timeline, keep_on, false);
    }

    pub(super) async fn start_emergency(&mut self, e: Emergency, now: Timestamp) {
        let Emergency {
            speech,
            files,
            slot,
            zones,
            origin,
        } = e;
        let items: Vec<AirItem> = speech
            .into_iter()
            .chain(self.resolve_requested(&files, slot))
            .map(|i| i.to_zones(&zones))
            .collect();
        let mut key = format!(
            "{} emergency {}",
            self.today(now),
            local_time(now, &self.cfg.tz)
        );
        // The district's command, for its "aired" answer.
        if let Some(o) = &origin {
            key = format!("{key} {}", crate::asrun::district::origin_tag(o));
        }
        let meta = Meta {
            day: self.today(now),
            key: key.clone(),
            title: Some(self.lang().pick("Tin khẩn cấp", "Emergency").to_string()),
            tags: vec!["khan-cap".into()],
            scheduled: items
                .iter()
                .map(|_| (Some(now), Priority::Emergency))
                .collect(),
            late: false,
            clock_synced: self.clock_synced,
        };
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        tracing::warn!(items = ?names, "{}", crate::lang::log("phát khẩn cấp", "emergency broadcast"));
        // If a broadcast is due right after, keep the relay on for it.
        let plan = self.plan.clone();
        let attempted = self.attempted.clone();
        let tz = self.cfg.tz.clone();
        let clock = self.deps_clock.clone();
        let keep_on: Arc<dyn Fn() -> bool + Send + Sync> = Arc::new(move || {
            let now = clock.now();
            plan.as_ref().is_some_and(|p| {
                p.broadcasts.iter().any(|b| {
                    !attempted.contains(&broadcast_key(p.date, b, &tz)) && b.relay_on <= now
                })
            })
        });
        let timing = self.timing(self.cfg.audio.gap);
        let timeline = Timeline::from_relay_on(now, &durations(&items), timing);
        self.launch(items, meta, timeline, keep_on, true);
    }

    pub(super) fn launch(
        &mut self,
        items: Vec<AirItem>,
        meta: Meta,
        timeline: Timeline,
        keep_on: Arc<dyn Fn() -> bool + Send + Sync>,
        emergency: bool,
    ) {
        let (key, late) = (meta.key.clone(), meta.late);
        let (tx, rx) = mpsc::unbounded_channel();
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .results
            .insert(key.clone(), BroadcastResult::Playing);
        let recorder = Recorder {
            asrun: self.asrun.clone(),
            live: self.live.clone(),
            meta,
            items: items.clone(),
            rows: HashMap::new(),
            lang: self.cfg.lang,
            warm_up: timeline.timing.warm_up,
            tz: self.cfg.tz.clone(),
            archive: self.archive.clone(),
            recording: None,
        };
        let job = air::Job {
            items,
            timeline,
            fade: self.cfg.audio.fade,
            lang: self.cfg.lang,
            commands: Some(rx),
            keep_on: Some(keep_on),
        };
        let seams = air::Seams {
            relay: Some(self.relay.clone()),
            output: self.output.clone(),
            clock: self.deps_clock.clone(),
            shutdown: self.shutdown.clone(),
        };
        let mut recorder = recorder;
        let handle = tokio::spawn(async move { air::air(job, seams, &mut recorder).await });
        self.current = Some(Current {
            handle,
            commands: tx,
            key,
            late,
            emergency,
        });
    }

    /// Deletes old recordings (by age at `now`, then the oldest while the
    /// disk is below the reserve), off the loop's thread.
    pub(super) async fn prune_archive(&self, now: Timestamp) {
        let archive = self.archive.clone();
        let _ = tokio::task::spawn_blocking(move || archive.prune(now)).await;
    }

    pub(super) fn finished(&mut self, cur: Current, report: AirReport) {
        let statuses: Vec<RowStatus> = report
            .items
            .iter()
            .map(|i| match i.outcome {
                Outcome::Played => RowStatus::Played,
                Outcome::Failed(_) => RowStatus::Failed,
                Outcome::Interrupted(_) => RowStatus::Interrupted,
                Outcome::Skipped | Outcome::NotAired(_) => RowStatus::Skipped,
            })
            .collect();
        let word = match summarize(&statuses) {
            BroadcastResult::Aired if cur.late => BroadcastResult::Late,
            w => w,
        };
        tracing::info!(broadcast = %cur.key, result = word.as_str(), emergency = cur.emergency, "{}", crate::lang::log("kết thúc buổi phát", "broadcast ended"));
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.results.insert(cur.key.clone(), word.clone());
        live.playing = None;
        live.warming_up = None;
        if let Some(e) = &report.device_error {
            live.error(Cause::Device, e.message(self.cfg.lang));
        }
        if let Some(e) = &report.relay_error {
            live.error(Cause::Relay, e.clone());
        } else if report.relay_on.is_some() {
            live.clear_if(|c| *c == Cause::Relay);
        }
        drop(live);
        // A file change during the broadcast is taken up now.
        self.dirty = true;
    }
}
