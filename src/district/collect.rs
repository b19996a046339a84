//! `loa district collect`: the district's long-running collector. It
//! keeps one persistent MQTT session (client id [`CLIENT_ID`], clean
//! session off), so that while it restarts the broker holds what the
//! boxes send for it, and stores in `STATE/district.db` ([`Store`]):
//! each box's online state and since when, its last status, its as-run
//! rows (a row sent twice is stored once), its answers to commands, and
//! the commands the district sent.
//!
//! A message is acknowledged to the broker only once it is stored: if the
//! database cannot be written the collector exits (systemd starts it
//! again) and the broker sends what was not acknowledged once more. The
//! statuses are taken at QoS 0 (the broker does not queue them while the
//! collector is away; the retained one comes on subscribing), everything
//! else at QoS 1. When the broker goes away it tries again after 1 s,
//! then 2, 4, ... up to a minute. SIGTERM or SIGINT ends it cleanly.

use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use rumqttc::{
    AsyncClient, ConnectionError, Event, Outgoing, Packet, Publish, QoS, SubscribeFilter,
};
use serde_json::Value;
use tokio::sync::mpsc;

use super::proto::{Ack, Command, Topics};
use super::send::Target;
use super::store::Store;
use super::tools::Link;
use crate::lang::Lang;
use crate::tr;

/// The collector's client id: one persistent session at the broker.
pub const CLIENT_ID: &str = "loa-district-collect";

/// How often the collector writes its sign of life.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// The longest wait between two tries to reach the broker.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What the collector subscribes to.
pub fn filters(t: &Topics) -> Vec<SubscribeFilter> {
    let f = |path: String, qos| SubscribeFilter::new(path, qos);
    vec![
        f(t.online("+"), QoS::AtLeastOnce),
        f(t.status("+"), QoS::AtMostOnce),
        f(t.asrun("+"), QoS::AtLeastOnce),
        f(t.ack("+"), QoS::AtLeastOnce),
        // PREFIX/+/cmd covers PREFIX/all/cmd.
        f(t.cmd("+"), QoS::AtLeastOnce),
        f(t.group_cmd("+"), QoS::AtLeastOnce),
    ]
}

/// `loa district collect`: runs until SIGTERM or SIGINT; the exit code.
pub fn run(link: &Link, state: &Path) -> i32 {
    let lang = link.lang;
    let store = match Store::open(state) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}", e.message(lang));
            return crate::cli::exit::PROBLEMS;
        }
    };
    let mut opts = match link.options(CLIENT_ID, true) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return crate::cli::exit::CONFIG;
        }
    };
    // Acknowledged once stored (see the module's head).
    opts.set_manual_acks(true);
    let rt = match super::tools::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return crate::cli::exit::PROBLEMS;
        }
    };
    match rt.block_on(serve(link, &store, opts)) {
        Ok(()) => crate::cli::exit::OK,
        Err(msg) => {
            eprintln!("{msg}");
            crate::cli::exit::PROBLEMS
        }
    }
}

/// The event loop's news, passed from its own task.
type News = Result<Event, ConnectionError>;

/// Polls the event loop on its own task (a poll is never cut short),
/// waiting longer after each failed try; ends after the goodbye.
/// The most messages stored in one transaction.
const BATCH: usize = 500;

/// Polls the client's event loop and passes on what matters. It must never
/// wait on the loop that stores: that loop's acknowledgements go through
/// this event loop, so a bounded hand-over deadlocked both once more
/// messages were waiting than it held (the broker's own window, 20 in
/// flight, keeps the unbounded one small).
fn spawn_poller(mut events: rumqttc::EventLoop, tx: mpsc::UnboundedSender<News>) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        loop {
            match events.poll().await {
                Ok(ev) => {
                    let bye = matches!(ev, Event::Outgoing(Outgoing::Disconnect));
                    let news =
                        matches!(ev, Event::Incoming(Packet::ConnAck(_) | Packet::Publish(_)));
                    if matches!(ev, Event::Incoming(Packet::ConnAck(_))) {
                        backoff = Duration::from_secs(1);
                    }
                    if bye || (news && tx.send(Ok(ev)).is_err()) {
                        return;
                    }
                }
                Err(e) => {
                    if tx.send(Err(e)).is_err() {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    });
}

async fn serve(link: &Link, store: &Store, opts: rumqttc::MqttOptions) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let lang = link.lang;
    let (client, events) = AsyncClient::new(opts, 1024);
    let (tx, mut rx) = mpsc::unbounded_channel();
    // A connection event met while gathering a batch goes back in line.
    let requeue = tx.clone();
    spawn_poller(events, tx);
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut beat = tokio::time::interval(HEARTBEAT);
    let (url, db) = (
        link.broker.url(),
        crate::problem::display_path(store.path()),
    );
    say(&tr!(
        lang,
        "Thu thập tin của các máy từ {url} vào {db}.",
        "collecting from the boxes through {url} into {db}"
    ));
    let mut connected = false;
    let mut last_error = String::new();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = beat.tick() => store.heartbeat(connected, Timestamp::now()).map_err(|e| store.error(&e, lang))?,
            news = rx.recv() => match news {
                None => break,
                Some(Ok(Event::Incoming(Packet::ConnAck(c)))) => {
                    connected = true;
                    last_error.clear();
                    store.heartbeat(true, Timestamp::now()).map_err(|e| store.error(&e, lang))?;
                    let kept = if c.session_present { lang.pick(" (phiên cũ được giữ)", " (session kept)") } else { "" };
                    say(&tr!(lang, "Đã kết nối {url}{kept}.", "connected to {url}{kept}"));
                    client.subscribe_many(filters(&link.topics)).await.map_err(|e| e.to_string())?;
                }
                Some(Ok(Event::Incoming(Packet::Publish(p)))) => {
                    // What else has already arrived is stored with it in
                    // one transaction (one sync to disk), then all of it
                    // acknowledged: 200 boxes' day of rows takes seconds,
                    // not a sync per row.
                    let mut batch = vec![p];
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(Ok(Event::Incoming(Packet::Publish(q)))) => batch.push(q),
                            Ok(other) => {
                                let _ = requeue.send(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    store
                        .in_one(|s| batch.iter().try_for_each(|p| take(s, &link.topics, p, lang)))
                        .map_err(|e| store.error(&e, lang))?;
                    for p in &batch {
                        client.ack(p).await.map_err(|e| e.to_string())?;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let msg = link.error(&e);
                    if connected || msg != last_error {
                        say(&tr!(lang, "{msg} Sẽ thử lại.", "{msg}; trying again"));
                    }
                    connected = false;
                    last_error = msg;
                    store.heartbeat(false, Timestamp::now()).map_err(|e| store.error(&e, lang))?;
                }
            }
        }
    }
    let _ = client.try_disconnect();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while rx.recv().await.is_some() {}
    })
    .await;
    store
        .stopped(Timestamp::now())
        .map_err(|e| store.error(&e, lang))?;
    say(lang.pick("Đã dừng thu thập.", "collector stopped"));
    Ok(())
}

fn say(msg: &str) {
    eprintln!("{msg}");
}

/// Stores one message. A message that is not what loa sends is noted and
/// dropped (acknowledged all the same: it would never read better); only
/// a database error is an error.
fn take(store: &Store, t: &Topics, p: &Publish, lang: Lang) -> rusqlite::Result<()> {
    let now = Timestamp::now();
    let topic = &p.topic;
    let odd = |what: &str| {
        say(&tr!(
            lang,
            "Bỏ qua một tin trên {topic}: {what}.",
            "ignored a message on {topic}: {what}"
        ));
    };
    if let Some(target) = Target::from_topic(t, topic) {
        match serde_json::from_slice::<Command>(&p.payload) {
            Ok(c) => store.put_command(&target.label(), &c, now)?,
            Err(e) => odd(&e.to_string()),
        }
        return Ok(());
    }
    let Some((name, leaf)) = t.split(topic) else {
        return Ok(());
    };
    if !crate::config::district::valid_name(name) {
        odd(lang.pick("tên máy không hợp lệ", "not a box name"));
        return Ok(());
    }
    match leaf {
        "online" => match p.payload.as_ref() {
            b"online" => store.put_online(name, true, p.retain, now)?,
            b"offline" => store.put_online(name, false, p.retain, now)?,
            _ => odd("online|offline?"),
        },
        "status" => match serde_json::from_slice::<Value>(&p.payload) {
            Ok(v) if v.is_object() => store.put_status(name, &v, p.retain, now)?,
            _ => odd(lang.pick("không phải JSON", "not JSON")),
        },
        "asrun" => match serde_json::from_slice::<Value>(&p.payload) {
            Ok(v) => match store.put_asrun(name, &v, now) {
                Ok(_) => {}
                Err(Some(e)) => return Err(e),
                Err(None) => odd(lang.pick(
                    "dòng nhật ký thiếu id hoặc day",
                    "an as-run row without id or day",
                )),
            },
            Err(e) => odd(&e.to_string()),
        },
        "ack" => match serde_json::from_slice::<Ack>(&p.payload) {
            Ok(a) => store.put_ack(name, &a, now)?,
            Err(e) => odd(&e.to_string()),
        },
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mk(topic: &str, payload: &str, retain: bool) -> Publish {
        let mut p = Publish::new(topic, QoS::AtLeastOnce, payload.as_bytes().to_vec());
        p.retain = retain;
        p
    }

    #[test]
    fn each_kind_of_message_lands_in_its_table() {
        let s = Store::in_memory();
        let t = Topics::new("loa");
        let msgs = [
            mk("loa/xa-a/online", "online", true),
            mk(
                "loa/xa-a/status",
                r#"{"now":"2026-11-02T10:00:00+07:00","groups":["ven-bien"]}"#,
                true,
            ),
            mk(
                "loa/xa-a/asrun",
                r#"{"id":3,"day":"2026-11-02","status":"played","aired_s":12.5}"#,
                false,
            ),
            mk(
                "loa/xa-a/asrun",
                r#"{"id":3,"day":"2026-11-02","status":"played","aired_s":12.5}"#,
                false,
            ),
            mk(
                "loa/xa-a/ack",
                r#"{"id":"now-1","status":"accepted","at":"2026-11-02T10:00:01+07:00"}"#,
                false,
            ),
            mk(
                "loa/all/cmd",
                r#"{"id":"now-1","command":"now","files":["a.mp3"]}"#,
                false,
            ),
            mk(
                "loa/group/ven-bien/cmd",
                r#"{"id":"stop-1","command":"stop"}"#,
                false,
            ),
            mk("loa/xa-a/asrun", "not json", false),
        ];
        for m in &msgs {
            take(&s, &t, m, Lang::En).unwrap();
        }
        let boxes = s.boxes().unwrap();
        assert_eq!(boxes.len(), 1);
        assert_eq!(boxes[0].online, Some(true));
        assert_eq!(boxes[0].groups, vec!["ven-bien".to_string()]);
        assert_eq!(s.asrun("2026-11-01", "2026-11-30").unwrap().len(), 1);
        assert_eq!(s.acks(&["now-1".into()]).unwrap().len(), 1);
        let all = Timestamp::from_second(0).unwrap()..=Timestamp::now();
        let sent = s.commands("now", *all.start(), *all.end()).unwrap();
        assert_eq!(
            (sent[0].target.as_str(), sent[0].files.clone()),
            ("all", vec!["a.mp3".to_string()])
        );
        assert_eq!(
            s.command("stop-1").unwrap().unwrap().target,
            "group:ven-bien"
        );
    }
}
