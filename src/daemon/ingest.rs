//! Uploads: folder changes seen, uploads waited for until complete, then
//! validated one at a time on a thread of their own (at low priority, so a
//! broadcast's sound never waits for them); a broadcast's own files are
//! validated first when it is due.

use super::*;

/// Validates one file on a thread of its own (validation lowers its
/// thread's priority, which must not stay with a pooled thread that may
/// later run playback).
pub(super) async fn take_up_on_own_thread(
    cfg: Config,
    path: PathBuf,
) -> crate::media::ingest::TakeUp {
    let rel = path.display().to_string();
    // A blocking task (so tokio knows work is in progress) that waits for a
    // thread of its own (whose lowered priority dies with it).
    let job = tokio::task::spawn_blocking(move || {
        std::thread::Builder::new()
            .name("ingest".into())
            .spawn(move || {
                let index =
                    MediaIndex::open(&cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
                crate::media::ingest::take_up(
                    &cfg.paths.audio,
                    &path,
                    &index,
                    &cfg.paths.state,
                    cfg.ingest.min_free,
                    cfg.lang,
                    &cfg.tz,
                )
            })
            .ok()
            .and_then(|t| t.join().ok())
    });
    job.await
        .ok()
        .flatten()
        .unwrap_or(crate::media::ingest::TakeUp::Gone { rel })
}

pub(super) async fn join_ingest(
    job: &mut Option<(
        PathBuf,
        tokio::task::JoinHandle<crate::media::ingest::TakeUp>,
    )>,
) -> Option<crate::media::ingest::TakeUp> {
    match job {
        Some((_, j)) => j.await.ok(),
        None => std::future::pending().await,
    }
}

impl Daemon {
    /// A folder change. Returns true when the plan must be re-read (a
    /// playlist changed, an audio file went away); uploads are taken up
    /// once complete, and re-plan when they are.
    pub(super) fn observe(&mut self, c: Change) -> bool {
        use crate::media::ingest;
        let Some(path) = c.path else {
            return true;
        };
        let audio = &self.cfg.paths.audio;
        if !path.starts_with(audio) {
            return true;
        }
        if c.removed {
            self.uploads.forget(&path);
            // The operator deleted the rejected copy: the complaint about it
            // is done with. (The original's removal is the move to
            // rejected/ itself, not a sign the cause is gone.)
            if let Ok(rel) = path.strip_prefix(audio.join(crate::media::library::REJECTED_DIR)) {
                let rel = rel.to_string_lossy().into_owned();
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear_if(|c| *c == Cause::File(rel.clone()));
            }
            return true;
        }
        // A link, a pipe or a device: never followed; taken up only to be
        // reported (a note in rejected/, a warning in status).
        if ingest::odd(audio, &path).is_some() {
            if ingest::is_candidate(audio, &path) && !self.to_ingest.contains(&path) {
                self.to_ingest.push_back(path);
                self.next_ingest();
            }
            return true;
        }
        let Ok(rel) = path.strip_prefix(audio) else {
            return true;
        };
        if crate::media::folder::lstat(audio, rel)
            .is_some_and(|e| e.kind == Some(crate::media::folder::Kind::Directory))
        {
            // A folder moved in whole: its files, as uploads (and what is
            // odd in it, to be reported); no link in it is followed.
            let Ok((files, odd)) = crate::media::folder::walk_below(audio, rel, &|_, _| false)
            else {
                return false;
            };
            let now = std::time::Instant::now();
            for f in files {
                let p = audio.join(&f.rel);
                if ingest::is_candidate(audio, &p) {
                    self.uploads.touched(p, f.size, f.mtime_ns, false, now);
                }
            }
            for o in odd {
                let p = audio.join(&o.rel);
                if ingest::is_candidate(audio, &p) && !self.to_ingest.contains(&p) {
                    self.to_ingest.push_back(p);
                }
            }
            self.next_ingest();
            return false;
        }
        if !ingest::is_candidate(audio, &path) {
            return false;
        }
        match ingest::stat(audio, &path) {
            Some((size, mtime)) => {
                self.uploads
                    .touched(path, size, mtime, c.closed, std::time::Instant::now());
                false
            }
            None => {
                self.uploads.forget(&path);
                true
            }
        }
    }

    /// At start-up: files the media index does not know (or that changed
    /// since) are taken up like uploads.
    pub(super) fn ingest_existing(&mut self) {
        let Ok(library) = Library::scan(&self.cfg.paths.audio) else {
            return;
        };
        let index =
            MediaIndex::open(&self.cfg.paths.state).unwrap_or_else(|_| MediaIndex::in_memory());
        let audio = self.cfg.paths.audio.clone();
        for o in library.odd() {
            let path = audio.join(&o.rel);
            if crate::media::ingest::is_candidate(&audio, &path) {
                self.to_ingest.push_back(path);
            }
        }
        for (_, e) in library.entries() {
            let path = audio.join(&e.rel);
            if crate::media::ingest::is_candidate(&audio, &path)
                && !matches!(
                    index.verdict(&e.rel, e.size, e.mtime_ns),
                    Some(crate::media::validate::Verdict::Ok(_))
                )
            {
                self.to_ingest.push_back(path);
            }
        }
        self.next_ingest();
    }

    /// Starts validating the next finished upload, if none is in progress.
    pub(super) fn next_ingest(&mut self) {
        if self.ingesting.is_some() {
            return;
        }
        let Some(path) = self.to_ingest.pop_front() else {
            return;
        };
        let cfg = self.cfg.clone();
        let job = tokio::spawn(take_up_on_own_thread(cfg, path.clone()));
        self.ingesting = Some((path, job));
    }

    pub(super) fn ingested(&mut self, taken: Option<crate::media::ingest::TakeUp>) {
        use crate::media::ingest::TakeUp;
        match taken {
            Some(TakeUp::Accepted { rel }) => {
                self.note_upload(&rel, None);
                tracing::info!(file = %rel, "{}", crate::lang::log("đã nhận tệp tải lên", "upload taken up"));
                self.ingest_warning = None;
                self.dirty = true;
                // A good file in place of a rejected one: the old complaint
                // is gone.
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear_if(|c| *c == Cause::File(rel.clone()));
            }
            Some(TakeUp::Rejected {
                rel,
                message,
                moved,
            }) => {
                self.note_upload(&rel, Some(message.clone()));
                if moved {
                    tracing::warn!(file = %rel, reason = %message, "{}", crate::lang::log("tệp tải lên bị từ chối, đã chuyển vào rejected/", "upload rejected: moved to rejected/"));
                } else {
                    tracing::error!(file = %rel, reason = %message, "{}", crate::lang::log("tệp tải lên bị từ chối nhưng không chuyển được vào rejected/: tệp nằm nguyên chỗ cũ và không được phát", "upload rejected but not moved to rejected/: it stays where it is and is not aired"));
                }
                self.live
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .error(Cause::File(rel.clone()), format!("{rel}: {message}"));
                self.dirty = true;
            }
            Some(TakeUp::Odd { rel, message }) => {
                self.note_upload(&rel, Some(message.clone()));
                tracing::warn!(file = %rel, reason = %message, "{}", crate::lang::log("không phải tệp bình thường: để nguyên, không bao giờ phát", "not an ordinary file: left alone, never aired"));
                self.dirty = true;
            }
            Some(TakeUp::Refused { rel, message }) => {
                tracing::error!(file = %rel, reason = %message, "{}", crate::lang::log("chưa nhận tệp tải lên", "upload not taken up"));
                self.ingest_warning = Some(message);
                // Tried again on its next change, or at the next start.
            }
            Some(TakeUp::Gone { .. }) | None => {}
        }
    }

    /// An upload taken up (None) or refused (why), for the status note.
    pub(super) fn note_upload(&mut self, rel: &str, refused: Option<String>) {
        let now = self.deps_clock.now();
        let today = self.today(now);
        self.uploads_today.retain(|u| {
            self.cfg.tz.to_offset(u.at).to_datetime(u.at).date() == today && u.rel != rel
        });
        self.uploads_today.push(crate::status_note::Upload {
            at: now,
            rel: rel.to_string(),
            refused,
        });
    }

    /// Logs (once per change) when free space on the audio or state
    /// filesystem is below the reserve: uploads are then not taken up.
    pub(super) fn check_disk(&mut self) {
        let low = [&self.cfg.paths.audio, &self.cfg.paths.state]
            .into_iter()
            .find_map(|fs| {
                let free = crate::media::ingest::free_space(fs)?;
                (free < self.cfg.ingest.min_free).then(|| (fs.clone(), free))
            });
        match (low, self.disk_low) {
            (Some((fs, free)), false) => {
                tracing::warn!(
                    folder = %fs.display(),
                    free_mb = free / 1_000_000,
                    reserve_mb = self.cfg.ingest.min_free / 1_000_000, "{}", crate::lang::log("đĩa sắp đầy; loa không nhận thêm tệp tải lên", "the disk is nearly full; uploads are not taken up"));
                self.disk_low = true;
            }
            (None, true) => {
                tracing::info!(
                    "{}",
                    crate::lang::log(
                        "dung lượng trống đã trở lại trên mức dự trữ",
                        "free disk space is back above the reserve"
                    )
                );
                self.disk_low = false;
            }
            _ => {}
        }
    }

    /// The files below the audio folder that are not ready: uploads in
    /// progress, waiting to be validated, or being validated.
    pub(super) fn pending_rels(&self) -> std::collections::HashSet<String> {
        let audio = &self.cfg.paths.audio;
        self.uploads
            .paths()
            .chain(self.to_ingest.iter().map(PathBuf::as_path))
            .chain(self.ingesting.as_ref().map(|(p, _)| p.as_path()))
            .filter_map(|p| p.strip_prefix(audio).ok())
            .map(|r| r.to_string_lossy().into_owned())
            .collect()
    }

    /// Whether a file (below the audio folder) is still being uploaded: it
    /// must not be aired yet.
    pub(super) fn not_ready(&self, rel: &str) -> bool {
        self.uploads.contains(&self.cfg.paths.audio.join(rel))
    }

    /// Before a broadcast starts: validates now those of its files (aired
    /// or left out for now) that are waiting their turn, and waits for the
    /// one being validated if it is one of them, so that nothing
    /// unvalidated airs and a file uploaded just before its broadcast still
    /// airs. Whether any was taken up (then the plan must be made again).
    /// The watchdog is fed meanwhile: a long file takes a while to validate
    /// on a Pi, and the loop is not hung.
    pub(super) async fn validate_first(
        &mut self,
        b: &crate::schedule::PlannedBroadcast,
        requests: &mut Requests,
    ) -> bool {
        let audio = &self.cfg.paths.audio;
        let paths: Vec<PathBuf> = b
            .items
            .iter()
            .map(|i| audio.join(&i.path))
            .chain(b.skipped.iter().map(|(file, _)| audio.join(file)))
            .collect();
        let mut taken_any = false;
        if let Some((path, _)) = &self.ingesting
            && paths.contains(path)
            && let Some((_, job)) = self.ingesting.take()
        {
            let taken = self.meanwhile(job, requests).await.ok();
            self.ingested(taken);
            taken_any = true;
        }
        for path in paths {
            let Some(pos) = self.to_ingest.iter().position(|p| *p == path) else {
                continue;
            };
            self.to_ingest.remove(pos);
            let job = take_up_on_own_thread(self.cfg.clone(), path);
            let taken = self.meanwhile(job, requests).await;
            self.ingested(Some(taken));
            taken_any = true;
        }
        self.next_ingest();
        taken_any
    }

    /// Awaits `work` while still answering the control socket (`loa
    /// status` must not say the service is stuck while it validates a long
    /// file) and telling the watchdog every `turn_every` that loa is alive.
    pub(super) async fn meanwhile<F: std::future::Future>(
        &mut self,
        work: F,
        requests: &mut Requests,
    ) -> F::Output {
        let every = self.turn_every.unwrap_or(Duration::from_secs(3600));
        // A deadline of its own: questions arriving more often than `every`
        // must not put the watchdog off.
        let mut ping_at = tokio::time::Instant::now() + every;
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = tokio::time::sleep_until(ping_at) => {
                    (self.alive)();
                    ping_at = tokio::time::Instant::now() + every;
                }
                Some((req, reply)) = requests.recv() => {
                    let now = self.deps_clock.now();
                    let resp = self.handle(req, now).await;
                    let _ = reply.send(resp);
                }
            }
        }
    }
}
