//! The box's side of the link, run by `loa run` when `[district]` names a
//! box: one task that keeps a persistent MQTT session with the district's
//! broker (reconnecting with backoff), says the box is online (the broker's
//! last will says offline), publishes its status (on every change and every
//! 60 s), sends every as-run row in order (the last one the broker
//! acknowledged is kept in the state database, so rows written while the
//! link was down follow once it is back, none skipped), and carries out the
//! district's commands (`command`). It talks to the airing loop only
//! through the control requests, like `loa now`: the link going away, or a
//! broker that misbehaves, never touches the local schedule.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, Outgoing, Packet, QoS};
use tokio::sync::{oneshot, watch};

use super::proto::{Ack, AckStatus, Topics};
use crate::asrun::AsRun;
use crate::config::Config;
use crate::config::district::DistrictConfig;
use crate::control::protocol::{DistrictLink, Request, Response};
use crate::control::server::Requests;
use crate::tr;

/// How often the link looks for new as-run rows and finished emergencies.
const ROWS_EVERY: Duration = Duration::from_secs(2);
/// How often the status is looked at; published when it changed.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// Published at least this often even when nothing changed.
const STATUS_AT_LEAST: Duration = Duration::from_secs(60);
/// The longest wait between two connection attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Rows handed to the client and not yet acknowledged, at the most.
const ROWS_IN_FLIGHT: usize = 64;

/// The link's state as `loa status` shows it.
pub type LinkState = Arc<Mutex<Option<DistrictLink>>>;

/// What the link needs from the service.
pub struct LinkParts {
    /// The service's config (its `[district]` names a box).
    pub cfg: Config,
    /// The control requests, as `loa now` sends them.
    pub requests: Requests,
    /// The as-run log (rows to send, commands seen, the acknowledged row).
    pub asrun: Arc<Mutex<AsRun>>,
    /// Where the link says how it is.
    pub state: LinkState,
    /// Turns true when the service stops.
    pub stop: watch::Receiver<bool>,
}

/// Starts the link when the config names a district and a box.
pub fn spawn(parts: LinkParts) -> Option<tokio::task::JoinHandle<()>> {
    let d = parts.cfg.district.clone()?;
    let box_name = d.box_name.clone()?;
    Some(tokio::spawn(async move {
        Link::new(parts, d, box_name).run().await;
    }))
}

/// Something published and not yet acknowledged by the broker.
#[derive(Clone, Debug)]
enum Sent {
    /// An as-run row, by id.
    Row(i64),
    /// An answer to a command (sent again after a reconnection).
    Ack(String),
    /// Online, status: sent anew anyway.
    Other,
}

pub(super) struct Link {
    pub(super) cfg: Config,
    d: DistrictConfig,
    pub(super) box_name: String,
    pub(super) topics: Topics,
    pub(super) requests: Requests,
    pub(super) asrun: Arc<Mutex<AsRun>>,
    state: LinkState,
    stop: watch::Receiver<bool>,
    /// Published, waiting for its packet id (in the client's order).
    sent: VecDeque<Sent>,
    /// Packet id -> what it carried, until the broker acknowledges it.
    inflight: HashMap<u16, Sent>,
    /// Rows handed to the client, in order, with whether acknowledged.
    rows: VecDeque<(i64, bool)>,
    /// The last row the broker has (all before it too).
    acked: i64,
    /// Answers to resend after a reconnection.
    unconfirmed_acks: Vec<String>,
    /// Emergencies from the district waiting to be "aired": their ids.
    pub(super) pending_aired: Vec<String>,
    last_status: Option<(serde_json::Value, tokio::time::Instant)>,
    connected: bool,
}

impl Link {
    fn new(parts: LinkParts, d: DistrictConfig, box_name: String) -> Link {
        let acked = lock(&parts.asrun).district_acked().unwrap_or(0);
        let topics = Topics::new(&d.topic_prefix);
        Link {
            cfg: parts.cfg,
            d,
            box_name,
            topics,
            requests: parts.requests,
            asrun: parts.asrun,
            state: parts.state,
            stop: parts.stop,
            sent: VecDeque::new(),
            inflight: HashMap::new(),
            rows: VecDeque::new(),
            acked,
            unconfirmed_acks: Vec::new(),
            pending_aired: Vec::new(),
            last_status: None,
            connected: false,
        }
    }

    fn set_state(&self, state: &str, error: Option<String>) {
        let mut s = lock(&self.state);
        let now = crate::schedule::rfc3339(jiff::Timestamp::now(), &self.cfg.tz);
        let changed = s.as_ref().is_none_or(|x| x.state != state);
        let since = match (&*s, changed) {
            (Some(x), false) => x.since.clone(),
            _ => Some(now),
        };
        *s = Some(DistrictLink {
            broker: self.d.broker.url(),
            r#box: self.box_name.clone(),
            state: state.to_string(),
            since,
            error,
            rows_acked: self.acked,
        });
    }

    async fn run(mut self) {
        let lang = self.cfg.lang;
        self.set_state("connecting", None);
        loop {
            if *self.stop.borrow() {
                return;
            }
            let creds = match &self.d.credentials {
                None => None,
                Some(p) => match super::creds::load(p) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        let m = e.message(lang);
                        tracing::error!(problem = %m, "{}", crate::lang::log("không kết nối với huyện", "district link refused"));
                        self.set_state("refused", Some(m));
                        if self.pause(BACKOFF_MAX).await {
                            return;
                        }
                        continue;
                    }
                },
            };
            let will = Some((self.topics.online(&self.box_name), "offline"));
            let opts = match super::connect::options(
                &self.d.broker,
                &self.box_name,
                creds.as_ref(),
                self.d.ca_file.as_deref(),
                will,
                true,
                lang,
            ) {
                Ok(o) => o,
                Err(m) => {
                    self.set_state("refused", Some(m));
                    if self.pause(BACKOFF_MAX).await {
                        return;
                    }
                    continue;
                }
            };
            let (client, ev) = AsyncClient::new(opts, 256);
            if self.session(client, ev).await {
                return;
            }
        }
    }

    /// Waits `d` or until the service stops (true then).
    async fn pause(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = self.stop.changed() => true,
            _ = tokio::time::sleep(d) => *self.stop.borrow(),
        }
    }

    /// One client's life; true when the service stops.
    async fn session(&mut self, client: AsyncClient, mut ev: EventLoop) -> bool {
        let lang = self.cfg.lang;
        let mut backoff = Duration::from_secs(1);
        let mut rows_tick = tokio::time::interval(ROWS_EVERY);
        let mut status_tick = tokio::time::interval(STATUS_EVERY);
        loop {
            tokio::select! {
                _ = self.stop.changed() => {
                    if *self.stop.borrow() {
                        self.say_goodbye(&client, &mut ev).await;
                        return true;
                    }
                }
                polled = ev.poll() => match polled {
                    Ok(event) => {
                        backoff = Duration::from_secs(1);
                        self.on_event(&client, event).await;
                    }
                    Err(e) => {
                        let was = self.connected;
                        self.connected = false;
                        let why = tr!(lang, "mất kết nối: {e}", "disconnected: {e}");
                        if was {
                            tracing::warn!(error = %e, "{}", crate::lang::log("mất kết nối với huyện; sẽ thử lại", "district link lost; retrying"));
                        }
                        self.set_state("disconnected", Some(why));
                        self.lost(&mut ev);
                        if self.pause(backoff).await {
                            return true;
                        }
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                    }
                },
                _ = rows_tick.tick() => {
                    if self.connected {
                        self.send_rows(&client);
                        self.check_aired(&client);
                    }
                }
                _ = status_tick.tick() => {
                    if self.connected {
                        self.send_status(&client).await;
                    }
                }
            }
        }
    }

    async fn on_event(&mut self, client: &AsyncClient, event: Event) {
        match event {
            Event::Incoming(Packet::ConnAck(_)) => self.connected_now(client),
            Event::Incoming(Packet::Publish(p)) => {
                let ack = super::command::carry_out(self, &p.payload).await;
                self.publish_ack(client, &ack);
            }
            Event::Incoming(Packet::PubAck(a)) => self.broker_has(a.pkid),
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                if let Some(s) = self.sent.pop_front()
                    && pkid != 0
                {
                    self.inflight.insert(pkid, s);
                }
            }
            _ => {}
        }
    }

    /// Connected (again): subscribe, say online, send the status, then the
    /// rows after the last one the broker has, and unconfirmed answers.
    fn connected_now(&mut self, client: &AsyncClient) {
        self.connected = true;
        tracing::info!(broker = %self.d.broker.url(), "{}", crate::lang::log("đã kết nối với huyện", "district link up"));
        self.set_state("connected", None);
        let mut topics = vec![self.topics.cmd(&self.box_name), self.topics.all_cmd()];
        topics.extend(self.d.groups.iter().map(|g| self.topics.group_cmd(g)));
        for t in topics {
            let _ = client.try_subscribe(t, QoS::AtLeastOnce);
        }
        self.publish(
            client,
            self.topics.online(&self.box_name),
            "online".into(),
            true,
            Sent::Other,
        );
        self.last_status = None;
        for a in std::mem::take(&mut self.unconfirmed_acks) {
            self.publish(
                client,
                self.topics.ack(&self.box_name),
                a.clone(),
                false,
                Sent::Ack(a),
            );
        }
    }

    /// The connection went: what was in flight is sent again once back
    /// (rows from the last acknowledged one, answers as they were).
    fn lost(&mut self, ev: &mut EventLoop) {
        ev.pending.clear();
        for s in self
            .sent
            .drain(..)
            .chain(self.inflight.drain().map(|(_, s)| s))
        {
            if let Sent::Ack(a) = s {
                self.unconfirmed_acks.push(a);
            }
        }
        self.rows.clear();
    }

    fn publish(
        &mut self,
        client: &AsyncClient,
        topic: String,
        payload: String,
        retain: bool,
        what: Sent,
    ) {
        match client.try_publish(topic, QoS::AtLeastOnce, retain, payload) {
            Ok(()) => self.sent.push_back(what),
            Err(e) => {
                tracing::debug!(error = %e, "district link: publish queue full");
                if let Sent::Ack(a) = what {
                    self.unconfirmed_acks.push(a);
                }
            }
        }
    }

    pub(super) fn publish_ack(&mut self, client: &AsyncClient, ack: &Ack) {
        let text = serde_json::to_string(ack).unwrap_or_default();
        self.publish(
            client,
            self.topics.ack(&self.box_name),
            text.clone(),
            false,
            Sent::Ack(text),
        );
    }

    /// The broker acknowledged packet `pkid`.
    fn broker_has(&mut self, pkid: u16) {
        let Some(s) = self.inflight.remove(&pkid) else {
            return;
        };
        let Sent::Row(id) = s else { return };
        if let Some(r) = self.rows.iter_mut().find(|(r, _)| *r == id) {
            r.1 = true;
        }
        let mut upto = None;
        while let Some((id, true)) = self.rows.front().copied() {
            self.rows.pop_front();
            upto = Some(id);
        }
        if let Some(id) = upto {
            self.acked = id;
            if let Err(e) = lock(&self.asrun).set_district_acked(id) {
                tracing::error!(error = %e, "could not record the rows the district has");
            }
            if let Some(s) = lock(&self.state).as_mut() {
                s.rows_acked = id;
            }
        }
    }

    /// The finished rows after the last one handed over, in order.
    fn send_rows(&mut self, client: &AsyncClient) {
        if self.rows.len() >= ROWS_IN_FLIGHT {
            return;
        }
        let after = self.rows.back().map_or(self.acked, |(id, _)| *id);
        let rows =
            match lock(&self.asrun).finished_rows_after(after, ROWS_IN_FLIGHT - self.rows.len()) {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(error = %e, "district link: reading the as-run log");
                    return;
                }
            };
        let archive = self.archives(&rows);
        for row in rows {
            let mut v =
                crate::cli::log::to_json(&row, &self.cfg, archive.get(&row.record.broadcast_key));
            v["box"] = serde_json::Value::String(self.box_name.clone());
            self.rows.push_back((row.id, false));
            self.publish(
                client,
                self.topics.asrun(&self.box_name),
                v.to_string(),
                false,
                Sent::Row(row.id),
            );
        }
    }

    /// Emergencies from the district that have played: "aired", with their
    /// rows.
    fn check_aired(&mut self, client: &AsyncClient) {
        let mut done = Vec::new();
        for id in &self.pending_aired {
            let rows = lock(&self.asrun).rows_of_origin(id).unwrap_or_default();
            if rows.is_empty() || !rows.iter().all(crate::asrun::district::finished) {
                continue;
            }
            done.push((id.clone(), rows));
        }
        for (id, rows) in done {
            self.pending_aired.retain(|x| *x != id);
            let archive = self.archives(&rows);
            let failed: Vec<String> = rows
                .iter()
                .filter(|r| r.record.status != crate::asrun::Status::Played)
                .map(|r| {
                    format!(
                        "{}: {}",
                        r.record.file,
                        r.record.error.clone().unwrap_or_default()
                    )
                })
                .collect();
            let json = rows
                .iter()
                .map(|r| {
                    crate::cli::log::to_json(r, &self.cfg, archive.get(&r.record.broadcast_key))
                })
                .collect();
            let ack = Ack {
                id,
                status: AckStatus::Aired,
                error: (!failed.is_empty()).then(|| failed.join("; ")),
                at: self.now_text(),
                r#box: self.box_name.clone(),
                rows: json,
            };
            self.publish_ack(client, &ack);
        }
    }

    /// The status, when it changed (or every minute), retained.
    async fn send_status(&mut self, client: &AsyncClient) {
        let Some(status) = self.ask(Request::Status).await.and_then(|r| r.status) else {
            return;
        };
        let Ok(mut v) = serde_json::to_value(&status) else {
            return;
        };
        v["box"] = serde_json::Value::String(self.box_name.clone());
        v["groups"] = serde_json::json!(self.d.groups);
        let key = status_key(&v);
        let due = match &self.last_status {
            None => true,
            Some((last, at)) => *last != key || at.elapsed() >= STATUS_AT_LEAST,
        };
        if due {
            self.publish(
                client,
                self.topics.status(&self.box_name),
                v.to_string(),
                true,
                Sent::Other,
            );
            self.last_status = Some((key, tokio::time::Instant::now()));
        }
    }

    /// Sends a request to the airing loop, as the control socket does.
    pub(super) async fn ask(&self, req: Request) -> Option<Response> {
        let (tx, rx) = oneshot::channel();
        self.requests.send((req, tx)).await.ok()?;
        rx.await.ok()
    }

    /// The recordings of the broadcasts these rows are of, by key.
    fn archives(&self, rows: &[crate::asrun::Row]) -> HashMap<String, crate::asrun::ArchiveRow> {
        let days = rows.iter().map(|r| r.record.day);
        match (days.clone().min(), days.max()) {
            (Some(from), Some(to)) => lock(&self.asrun)
                .archive_by_key(from, to)
                .unwrap_or_default(),
            _ => HashMap::new(),
        }
    }

    pub(super) fn now_text(&self) -> String {
        crate::schedule::rfc3339(jiff::Timestamp::now(), &self.cfg.tz)
    }

    /// On the way out: "offline" (retained), then disconnect, briefly.
    async fn say_goodbye(&mut self, client: &AsyncClient, ev: &mut EventLoop) {
        if !self.connected {
            return;
        }
        let _ = client.try_publish(
            self.topics.online(&self.box_name),
            QoS::AtLeastOnce,
            true,
            "offline",
        );
        let _ = client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Ok(e) = ev.poll().await {
                if e == Event::Outgoing(Outgoing::Disconnect) {
                    break;
                }
            }
        })
        .await;
    }
}

/// The status without what changes by itself (the time, how far an item
/// has played): a change in what is left is a change worth publishing.
fn status_key(v: &serde_json::Value) -> serde_json::Value {
    let mut k = v.clone();
    if let Some(o) = k.as_object_mut() {
        o.remove("now");
        if let Some(p) = o.get_mut("playing").and_then(|p| p.as_object_mut()) {
            p.remove("elapsed_s");
            p.remove("relay");
        }
    }
    k
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
