//! Re-planning: the day's plan from the playlists and the audio folder
//! (the last good plan kept when they cannot be read), what the as-run log
//! says was already attempted, what was missed and why, and what a forward
//! jump of the clock skipped.

use super::*;

impl Daemon {
    /// Re-reads the playlists and the audio folder and plans `day`. A broken
    /// edit of the in-effect playlist keeps the last good plan for the day.
    pub(super) async fn replan(&mut self, day: Date) {
        self.dirty = false;
        let cfg = self.cfg.clone();
        // Files still being uploaded or waiting to be validated are not
        // ready: validating them here would hold the loop (no watchdog, no
        // `loa status`) for as long as a long file takes.
        let pending = self.pending_rels();
        let planned = tokio::task::spawn_blocking(move || {
            let lang = cfg.lang;
            // A folder that cannot be read now (out of descriptors, a disk
            // error, a folder removed by mistake) says nothing about the
            // day: the last good plan stays, and this is tried again.
            let unreadable = |dir: &std::path::Path, key: &str, e: std::io::Error| {
                let shown = display_path(dir);
                if e.kind() == std::io::ErrorKind::NotFound {
                    return tr!(
                        lang,
                        "Không có thư mục {shown}; hãy tạo thư mục đó hoặc sửa [paths] {key} trong tệp cấu hình. Cho đến khi có, loa không phát gì mới.",
                        "there is no folder {shown}; create it or correct [paths] {key} in the config. Until then, loa airs nothing new"
                    );
                }
                let why = crate::tomlfile::io_reason(&e, lang);
                tr!(
                    lang,
                    "Không đọc được thư mục {shown} ({why}); loa giữ lịch phát tốt gần nhất và sẽ thử lại.",
                    "cannot read the folder {shown} ({why}); the last good plan stays in effect and loa tries again"
                )
            };
            if let Err(e) = std::fs::read_dir(&cfg.paths.playlists) {
                return Err(unreadable(&cfg.paths.playlists, "playlists", e));
            }
            let library = Library::scan(&cfg.paths.audio)
                .map_err(|e| unreadable(&cfg.paths.audio, "audio", e))?;
            let set = playlist::load_dir(&cfg.paths.playlists, lang);
            let index =
                MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
            // Each `say` item rendered now (or found in the cache), so
            // that its broadcast never waits for synthesis.
            let ahead = crate::tts::render_ahead(&cfg, &set, Some(day));
            for p in &ahead.problems {
                tracing::warn!(problem = %p, "{}", crate::lang::log("vấn đề khi đọc văn bản", "text to speech problem"));
            }
            let facts = crate::media::Facts::new(&library, &index, lang)
                .pending(pending)
                .with_speech(&ahead);
            let settings = PlanSettings::from_config(&cfg);
            let plan_of = |day: Date| plan_for(day, &set, &facts, &settings);
            let plan = plan_of(day);
            let playlist = set.for_date(day).playlist();
            let broken: Vec<String> = match &playlist {
                Some(p) => {
                    let shown = display_path(&p.path);
                    set.problems
                        .iter()
                        .filter(|x| x.path == shown && x.is_error())
                        .map(|x| x.to_string())
                        .collect()
                }
                None => vec![],
            };
            // For `loa status` when nothing is left today: the first
            // broadcast of the next days that air something (a week ahead).
            let later = (1..=LOOK_AHEAD_DAYS)
                .filter_map(|n| day.checked_add(jiff::Span::new().days(n)).ok())
                .find_map(|d| plan_of(d).broadcasts.into_iter().next());
            let odd: Vec<String> = library.odd().iter().map(|o| o.message(lang)).collect();
            Ok((plan, broken, later, odd))
        })
        .await;
        let (plan, broken, later, odd) = match planned {
            Ok(Ok(p)) => p,
            Ok(Err(why)) => {
                if self.plan_error.as_deref() != Some(&why) {
                    tracing::error!(problem = %why, "{}", crate::lang::log("không lập được lịch phát; loa giữ lịch phát tốt gần nhất", "cannot plan; the last good plan stays in effect"));
                }
                self.plan_error = Some(why);
                // Tried again at the next turn of the loop.
                self.dirty = true;
                return;
            }
            Err(_) => {
                self.dirty = true;
                return;
            }
        };
        self.later = later;
        self.odd_names = odd;
        let same_day = self.plan.as_ref().is_some_and(|p| p.date == day);
        if !broken.is_empty() && same_day {
            let first = broken[0].clone();
            tracing::error!(problem = %first, "{}", crate::lang::log("danh sách phát có lỗi; loa giữ lịch phát tốt gần nhất", "the playlist has errors; the last good plan stays in effect"));
            self.plan_error = Some(first);
        } else {
            if !broken.is_empty() {
                self.plan_error = Some(broken[0].clone());
            } else {
                self.plan_error = None;
            }
            for p in plan.problems.iter().filter(|p| p.is_error()) {
                tracing::warn!(problem = %p, "{}", crate::lang::log("vấn đề trong lịch phát", "plan problem"));
            }
            tracing::info!(
                day = %day,
                broadcasts = plan.broadcasts.len(),
                source = ?plan.source.as_deref().map(display_path), "{}", crate::lang::log("đã lập lịch phát trong ngày", "day planned"));
            self.plan = Some(plan);
        }
        if !same_day {
            self.refresh_attempted(day);
        }
    }

    pub(super) fn refresh_attempted(&mut self, day: Date) {
        let asrun = self.asrun.lock().unwrap_or_else(|e| e.into_inner());
        self.attempted = asrun.attempted(day).unwrap_or_default();
        // Today's list: what the log says of each broadcast.
        let mut results = HashMap::new();
        if let Ok(rows) = asrun.rows(day, day) {
            let mut by_key: HashMap<String, Vec<RowStatus>> = HashMap::new();
            for r in rows {
                by_key
                    .entry(r.record.broadcast_key.clone())
                    .or_default()
                    .push(r.record.status);
            }
            for (k, statuses) in by_key {
                results.insert(k, summarize(&statuses));
            }
        }
        drop(asrun);
        self.live.lock().unwrap_or_else(|e| e.into_inner()).results = results;
    }

    pub(super) fn record_missed(&mut self, plan: &DayPlan, list: &[usize]) {
        self.record_missed_because(plan, list, None);
    }

    /// As `record_missed`, with the reason given (a clock jump), else the
    /// usual "loa was not running or the clock was wrong".
    pub(super) fn record_missed_because(
        &mut self,
        plan: &DayPlan,
        list: &[usize],
        reason: Option<&str>,
    ) {
        let asrun = self.asrun.lock().unwrap_or_else(|e| e.into_inner());
        let lang = self.cfg.lang;
        // Broadcasts due before loa first ran were before it was installed:
        // not missed, and not in the log.
        let now = self.deps_clock.now();
        let installed = installed_at(&self.cfg, now);
        let first_start = *self
            .first_start
            .get_or_insert_with(|| asrun.first_start(installed).unwrap_or(installed));
        for &i in list {
            let b = &plan.broadcasts[i];
            let key = broadcast_key(plan.date, b, &self.cfg.tz);
            if b.at < first_start {
                tracing::info!(broadcast = %key, "{}", crate::lang::log("đến giờ trước khi cài đặt loa: không tính là bị lỡ", "due before loa was installed: not missed"));
                self.attempted.insert(key.clone());
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .results
                    .insert(key, BroadcastResult::BeforeInstall);
                continue;
            }
            let grace = crate::duration::to_config_text(self.cfg.schedule.late_grace);
            let grace_h = crate::duration::human(self.cfg.schedule.late_grace, lang);
            let why = reason.map(str::to_string).unwrap_or_else(|| tr!(
                lang,
                "Đến giờ phát, loa không chạy hoặc đồng hồ chưa đúng, và đã trễ quá thời gian cho phép phát muộn ({grace_h}, late-grace = \"{grace}\").",
                "loa was not running, or the clock was not right, at the broadcast's time, and the late-start grace (late-grace = \"{grace}\") has passed"
            ));
            tracing::warn!(broadcast = %key, "{}", crate::lang::log("buổi phát bị lỡ", "missed"));
            for it in &b.items {
                let rec = ItemRecord {
                    day: plan.date,
                    broadcast_key: key.clone(),
                    broadcast: b.title.clone(),
                    tags: b.tags.clone(),
                    file: it.file.clone(),
                    sha256: None,
                    scheduled: Some(it.start),
                    started: None,
                    ended: None,
                    status: RowStatus::Missed,
                    priority: Priority::Normal,
                    error: Some(why.clone()),
                    clock_synced: self.clock_synced,
                    late: false,
                    kind: match it.live.as_ref().map(|l| &l.source) {
                        Some(crate::live::LiveSource::Stream { .. }) => crate::asrun::Kind::Stream,
                        Some(crate::live::LiveSource::LineIn { .. }) => crate::asrun::Kind::LineIn,
                        None => crate::asrun::Kind::File,
                    },
                    aired_ms: None,
                    zones: b.zones.clone(),
                };
                if let Err(e) = asrun.record(&rec) {
                    tracing::error!(error = %e, "{}", crate::lang::log("không ghi được nhật ký phát", "could not write the as-run log"));
                }
            }
            self.attempted.insert(key.clone());
            self.live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .results
                .insert(key, BroadcastResult::Missed);
        }
    }

    /// After the wall clock jumped forward (`jump`): what fell inside the
    /// jump is missed, with the jump as the reason, and never aired, but
    /// for the latest one still within its grace of the new time, which
    /// airs once. Never a burst of past broadcasts after a clock jump.
    pub(super) fn apply_jump(&mut self, plan: &DayPlan, jump: Jump) {
        let tz = self.cfg.tz.clone();
        let grace = self.cfg.schedule.late_grace.as_millis() as i64;
        let inside: Vec<usize> = plan
            .broadcasts
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                b.at > jump.from
                    && b.at <= jump.to
                    && !self.attempted.contains(&broadcast_key(plan.date, b, &tz))
            })
            .map(|(i, _)| i)
            .collect();
        let keep = inside
            .iter()
            .copied()
            .filter(|&i| jump.to.as_millisecond() - plan.broadcasts[i].at.as_millisecond() <= grace)
            .max_by_key(|&i| plan.broadcasts[i].at);
        let missed: Vec<usize> = inside.into_iter().filter(|&i| Some(i) != keep).collect();
        if missed.is_empty() {
            return;
        }
        let by = crate::duration::human(jump.by, self.cfg.lang);
        let why = tr!(
            self.cfg.lang,
            "Đồng hồ của máy vừa nhảy tới trước {by} (ví dụ khi máy lấy lại giờ đúng qua mạng); giờ phát của buổi này nằm trong khoảng thời gian bị nhảy qua nên nó không được phát.",
            "the clock jumped forward by {by} (as when the box gets the right time from the network); this broadcast's time fell inside the jump, so it was not aired"
        );
        self.record_missed_because(plan, &missed, Some(&why));
    }
}
