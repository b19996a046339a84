//! The control socket's requests (`loa status`, `now`, `queue`, `stop`,
//! `skip`, `reload`, the relay by hand), answered by the loop.

use super::*;

impl Daemon {
    pub(super) async fn handle(&mut self, req: Request, now: Timestamp) -> Response {
        let lang = self.cfg.lang;
        let ok = |message: String| Response::ok(message);
        match req {
            Request::Status => {
                let mut st = self.status(now);
                st.archive = Some(self.archive.summary());
                Response::status(st)
            }
            Request::Reload => {
                self.dirty = true;
                ok(tr!(
                    lang,
                    "Đã đọc lại danh sách phát và thư mục âm thanh.",
                    "Playlists and the audio folder re-read."
                ))
            }
            Request::Queue { files, zones } => self.queue_files(files, &zones).await,
            Request::Now {
                files,
                slot,
                zones,
                origin,
            } => self.now(files, slot.as_deref(), &zones, origin).await,
            Request::Say {
                text,
                voice,
                queue,
                repeat,
                zones,
                origin,
            } => {
                let say = crate::tts::Say { text, voice };
                self.say(say, queue, repeat, &zones, origin).await
            }
            Request::Stop => match &self.current {
                Some(cur) => {
                    let _ = cur.commands.send(AirCommand::Stop);
                    let hold = crate::duration::human(self.cfg.relay.hold, lang);
                    ok(tr!(
                        lang,
                        "Đang dừng buổi phát; ampli sẽ tắt sau {hold}.",
                        "Stopping the broadcast; the amplifier goes off after {hold}."
                    ))
                }
                None => ok(tr!(
                    lang,
                    "Không có buổi phát nào đang chạy.",
                    "No broadcast is on air."
                )),
            },
            Request::Skip => match &self.current {
                Some(cur) => {
                    let _ = cur.commands.send(AirCommand::Skip);
                    ok(tr!(
                        lang,
                        "Đã bỏ qua bài đang phát.",
                        "Skipped the item on air."
                    ))
                }
                None => ok(tr!(
                    lang,
                    "Không có bài nào đang phát.",
                    "Nothing is on air."
                )),
            },
            Request::Relay { on, zone } => {
                if self.current.is_some() {
                    return Response::error(tr!(
                        lang,
                        "Đang có buổi phát; hãy dùng `loa stop` trước khi bật/tắt ampli bằng tay.",
                        "A broadcast is on air; use `loa stop` before switching the amplifier by hand."
                    ));
                }
                if let Some(zone) = zone {
                    return self.relay_zone(&zone, on);
                }
                let r = if on {
                    self.relay.on()
                } else {
                    self.relay.off()
                };
                let max_on = crate::duration::human(self.cfg.relay.max_on, lang);
                match r {
                    Ok(()) => ok(if on {
                        tr!(
                            lang,
                            "Ampli đã BẬT (do dịch vụ loa giữ). Ampli sẽ tự tắt sau {max_on}.",
                            "Amplifier ON (held by loa run). It goes off after {max_on}."
                        )
                    } else {
                        tr!(lang, "Ampli đã TẮT.", "Amplifier OFF.")
                    }),
                    Err(e) => Response::error(e.message(lang)),
                }
            }
        }
    }
}

impl Daemon {
    /// `loa queue`: the files first in the next broadcast, once each is
    /// known to be a file that passes validation.
    async fn queue_files(&mut self, files: Vec<String>, zones: &[String]) -> Response {
        let lang = self.cfg.lang;
        let zones = match self.zones_asked(zones) {
            Ok(z) => z,
            Err(why) => return Response::error(why),
        };
        if self.queue.len() + files.len() > MAX_QUEUE {
            let (n, have) = (files.len(), self.queue.len());
            return Response::error(tr!(
                lang,
                "Không xếp thêm được {n} tệp: hàng chờ phát ưu tiên đã có {have} tệp, tối đa là {MAX_QUEUE} tệp. Chưa tệp nào được xếp thêm.",
                "Cannot queue {n} file(s): the priority queue already holds {have}, at most {MAX_QUEUE}. Nothing was queued."
            ));
        }
        if let Err(why) = self.check_names(&files, None).await {
            return Response::error(why);
        }
        let n = files.len();
        self.queue
            .extend(files.into_iter().map(|f| (Queued::File(f), zones.clone())));
        Response::ok(tr!(
            lang,
            "Đã xếp {n} tệp để phát đầu tiên trong buổi phát tới.",
            "{n} file(s) queued to air first in the next broadcast."
        ))
    }
}

impl Daemon {
    /// `loa now`: the files (and live programmes, for `slot`) air at once,
    /// preempting what airs; refused before anything is cut when nothing
    /// of it would play.
    async fn now(
        &mut self,
        files: Vec<String>,
        slot: Option<&str>,
        zones: &[String],
        origin: Option<String>,
    ) -> Response {
        let lang = self.cfg.lang;
        let zones = match self.zones_asked(zones) {
            Ok(z) => z,
            Err(why) => return Response::error(why),
        };
        let slot = match crate::live::parse_slot(slot, lang) {
            Ok(s) => s,
            Err(why) => return Response::error(why),
        };
        if files.len() > MAX_QUEUE {
            let n = files.len();
            return Response::error(tr!(
                lang,
                "Không phát được: {n} tệp là quá nhiều cho một lần phát khẩn cấp (tối đa {MAX_QUEUE} tệp). Chưa có gì được phát.",
                "Not aired: {n} files are too many for one emergency (at most {MAX_QUEUE}). Nothing was aired."
            ));
        }
        if let Err(why) = self.check_names(&files, slot).await {
            return Response::error(why);
        }
        if let Some(cur) = &self.current {
            let _ = cur.commands.send(AirCommand::Preempt);
        }
        let n = files.len();
        self.emergency = Some(Emergency {
            speech: Vec::new(),
            files,
            slot,
            zones,
            origin,
        });
        Response::ok(tr!(
            lang,
            "Đang phát khẩn cấp {n} tệp ngay bây giờ.",
            "Airing {n} emergency file(s) now."
        ))
    }
}

impl Daemon {
    /// `loa say --now|--queue` and the district's `say`: the text rendered
    /// here (or found in the cache), validated and measured like a file,
    /// then aired at once as an emergency or queued first for the next
    /// broadcast. Refused, nothing cut, when no speech can be had.
    async fn say(
        &mut self,
        say: crate::tts::Say,
        queue: bool,
        repeat: u32,
        zones: &[String],
        origin: Option<String>,
    ) -> Response {
        let lang = self.cfg.lang;
        let refused = |why: String| {
            Response::error(tr!(
                lang,
                "Lệnh bị từ chối, không có gì được phát. {why}",
                "Refused, nothing was aired: {why}"
            ))
        };
        let zones = match self.zones_asked(zones) {
            Ok(z) => z,
            Err(why) => return Response::error(why),
        };
        if !(1..=MAX_SAY_REPEAT).contains(&repeat) {
            return refused(tr!(
                lang,
                "số lần đọc {repeat} không hợp lệ (từ 1 đến {MAX_SAY_REPEAT}).",
                "repeat {repeat} is not valid (1 to {MAX_SAY_REPEAT})."
            ));
        }
        let n = repeat as usize;
        if queue && self.queue.len() + n > MAX_QUEUE {
            let have = self.queue.len();
            return refused(tr!(
                lang,
                "hàng chờ phát ưu tiên đã có {have} mục, tối đa là {MAX_QUEUE}.",
                "the priority queue already holds {have} items, at most {MAX_QUEUE}."
            ));
        }
        let (item, note) = {
            let cfg = self.cfg.clone();
            let say = say.clone();
            let made = tokio::task::spawn_blocking(move || {
                let speaker = crate::tts::Speaker::new(&cfg);
                crate::tts::air_item(&cfg, &speaker, &say, 0.0)
            })
            .await;
            match made {
                Ok(m) => m,
                Err(e) => return refused(e.to_string()),
            }
        };
        if let Err(why) = &item.source {
            tracing::warn!(text = %item.name, problem = %why, "{}", crate::lang::log("không đọc được văn bản", "text cannot be read aloud"));
            return refused(why.clone());
        }
        let secs = item.duration.unwrap_or_default().as_secs_f64().round() as u64;
        let note = note.map(|n| format!(" {n}")).unwrap_or_default();
        if queue {
            self.queue.extend(
                std::iter::repeat_n(item, n).map(|i| (Queued::Speech(Box::new(i)), zones.clone())),
            );
            return Response::ok(tr!(
                lang,
                "Đã xếp văn bản ({secs} giây đọc, {n} lần) để phát đầu tiên trong buổi phát tới.{note}",
                "Text queued ({secs} s of speech, {n} time(s)) to air first in the next broadcast.{note}"
            ));
        }
        if let Some(cur) = &self.current {
            let _ = cur.commands.send(AirCommand::Preempt);
        }
        self.emergency = Some(Emergency {
            speech: vec![item; n],
            files: Vec::new(),
            slot: None,
            zones,
            origin,
        });
        Response::ok(tr!(
            lang,
            "Đang đọc văn bản khẩn cấp ngay bây giờ ({secs} giây đọc, {n} lần).{note}",
            "Reading the text as an emergency now ({secs} s of speech, {n} time(s)).{note}"
        ))
    }

    /// The zones a request names, checked against the config (every zone
    /// when it names none); Err: why it is refused, nothing aired.
    fn zones_asked(&self, asked: &[String]) -> Result<Vec<String>, String> {
        let lang = self.cfg.lang;
        crate::config::zone::resolve(&self.cfg.zones, asked, lang).map_err(|why| {
            tr!(
                lang,
                "Lệnh bị từ chối, không có gì được phát. {why}",
                "Refused, nothing was aired: {why}"
            )
        })
    }

    /// `loa relay on|off --zone NAME` while the service runs: that zone's
    /// line alone, the amplifier left as it is.
    fn relay_zone(&mut self, zone: &str, on: bool) -> Response {
        let lang = self.cfg.lang;
        let Some(z) = self.cfg.zones.iter().find(|z| z.name == zone) else {
            return Response::error(crate::config::zone::unknown_message(
                &self.cfg.zones,
                zone,
                lang,
            ));
        };
        let title = z.title.clone();
        match self.relay.switch_zone(zone, on) {
            Ok(()) if on => Response::ok(tr!(
                lang,
                "Rơ-le của vùng {title} ({zone}) đã BẬT (do dịch vụ loa giữ); nó tắt cùng ampli, hoặc bằng `loa relay off --zone {zone}`.",
                "Zone {title} ({zone}): relay ON (held by loa run); it goes off with the amplifier, or with `loa relay off --zone {zone}`."
            )),
            Ok(()) => Response::ok(tr!(
                lang,
                "Rơ-le của vùng {title} ({zone}) đã TẮT.",
                "Zone {title} ({zone}): relay OFF."
            )),
            Err(e) => Response::error(e.message(lang)),
        }
    }
}
