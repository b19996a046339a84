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
            Request::Queue { files } => {
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
                self.queue.extend(files);
                ok(tr!(
                    lang,
                    "Đã xếp {n} tệp để phát đầu tiên trong buổi phát tới.",
                    "{n} file(s) queued to air first in the next broadcast."
                ))
            }
            Request::Now { files, slot } => self.now(files, slot.as_deref()).await,
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
            Request::Relay { on } => {
                if self.current.is_some() {
                    return Response::error(tr!(
                        lang,
                        "Đang có buổi phát; hãy dùng `loa stop` trước khi bật/tắt ampli bằng tay.",
                        "A broadcast is on air; use `loa stop` before switching the amplifier by hand."
                    ));
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
    /// `loa now`: the files (and live programmes, for `slot`) air at once,
    /// preempting what airs; refused before anything is cut when nothing
    /// of it would play.
    async fn now(&mut self, files: Vec<String>, slot: Option<&str>) -> Response {
        let lang = self.cfg.lang;
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
        self.emergency = Some((files, slot));
        Response::ok(tr!(
            lang,
            "Đang phát khẩn cấp {n} tệp ngay bây giờ.",
            "Airing {n} emergency file(s) now."
        ))
    }
}
