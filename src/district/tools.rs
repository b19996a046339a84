//! The district's end of the link, for its tools (`loa district ...`):
//! which broker, with which account ([`Link`]), and a short MQTT session
//! ([`Session`]): connect, subscribe (waiting for the broker's yes),
//! publish (waiting for its receipt), read what comes until a deadline.
//! Every failure is the operator's message.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, MqttOptions, Packet,
    Publish, QoS, SubscribeFilter, SubscribeReasonCode,
};
use tokio::time::Instant;

use super::proto::Topics;
use crate::config::Config;
use crate::config::district::Broker;
use crate::lang::Lang;
use crate::tr;

/// How long the broker has to answer a connection.
const CONNECT_WITHIN: Duration = Duration::from_secs(15);

/// How long the broker has to take a command (12 MB over a slow line).
const PUBLISH_WITHIN: Duration = Duration::from_secs(120);

/// The broker and the account the district's tools use.
#[derive(Clone, Debug)]
pub struct Link {
    /// The broker.
    pub broker: Broker,
    /// The credentials file (the district's account).
    pub credentials: Option<PathBuf>,
    /// The CA to trust for TLS (else the system's).
    pub ca_file: Option<PathBuf>,
    /// The topics.
    pub topics: Topics,
    /// The operator's language.
    pub lang: Lang,
    /// The district's time zone (the config's), for the times shown.
    pub tz: TimeZone,
}

impl Link {
    /// The config's `[district]`, each part overridden by the command
    /// line's `--broker`, `--credentials`, `--ca-file`.
    pub fn from_config(
        cfg: &Config,
        broker: Option<&str>,
        credentials: Option<&Path>,
        ca_file: Option<&Path>,
    ) -> Result<Link, String> {
        let lang = cfg.lang;
        let d = cfg.district.as_ref();
        let broker = match broker {
            Some(b) => Broker::parse(b).ok_or_else(|| {
                tr!(
                    lang,
                    "--broker \"{b}\" không phải địa chỉ MQTT; hãy viết mqtts://TÊN-MÁY:8883 hoặc mqtt://127.0.0.1:1883.",
                    "--broker \"{b}\" is not an MQTT address; write mqtts://HOST:8883 or mqtt://127.0.0.1:1883"
                )
            })?,
            None => match d {
                Some(d) => d.broker.clone(),
                None => {
                    let shown = crate::problem::display_path(&cfg.path);
                    return Err(tr!(
                        lang,
                        "Chưa biết máy chủ MQTT của huyện: tệp cấu hình {shown} không có mục [district]. Hãy thêm [district] với broker = \"mqtt://127.0.0.1:1883\" và credentials = \"/etc/loa/district.secret\", hoặc dùng --broker và --credentials.",
                        "no district broker: the config {shown} has no [district]. Add [district] with broker = \"mqtt://127.0.0.1:1883\" and credentials = \"/etc/loa/district.secret\", or give --broker and --credentials"
                    ));
                }
            },
        };
        Ok(Link {
            broker,
            credentials: credentials
                .map(Path::to_path_buf)
                .or_else(|| d.and_then(|d| d.credentials.clone())),
            ca_file: ca_file
                .map(Path::to_path_buf)
                .or_else(|| d.and_then(|d| d.ca_file.clone())),
            topics: Topics::new(d.map_or("loa", |d| d.topic_prefix.as_str())),
            lang,
            tz: cfg.tz.clone(),
        })
    }

    /// The client's options: the credentials read (and their file
    /// checked) now.
    pub fn options(&self, client_id: &str, persistent: bool) -> Result<MqttOptions, String> {
        let creds = match &self.credentials {
            Some(p) => Some(super::creds::load(p).map_err(|e| e.message(self.lang))?),
            None => None,
        };
        super::connect::options(
            &self.broker,
            client_id,
            creds.as_ref(),
            self.ca_file.as_deref(),
            None,
            persistent,
            self.lang,
        )
    }

    /// What a connection error means, for the operator.
    pub fn error(&self, e: &ConnectionError) -> String {
        let lang = self.lang;
        let url = self.broker.url();
        match e {
            ConnectionError::ConnectionRefused(
                ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
            ) => {
                let file = self
                    .credentials
                    .as_deref()
                    .map(crate::problem::display_path)
                    .unwrap_or_else(|| lang.pick("(không có)", "(none)").into());
                tr!(
                    lang,
                    "Máy chủ MQTT {url} từ chối tài khoản trong {file}: sai tên hoặc mật khẩu. Trên máy chủ, hãy chạy lại: sudo sh add-box.sh --district, rồi dùng tệp district.secret nó tạo ra.",
                    "the broker {url} refused the account in {file}: wrong name or password. On the broker, run again: sudo sh add-box.sh --district, and use the district.secret it writes"
                )
            }
            ConnectionError::Io(io) => tr!(
                lang,
                "Không kết nối được máy chủ MQTT {url} ({io}). Hãy kiểm tra mosquitto đang chạy (sudo systemctl status mosquitto) và địa chỉ [district] broker.",
                "cannot reach the broker {url} ({io}). Check that mosquitto runs (sudo systemctl status mosquitto) and [district] broker"
            ),
            ConnectionError::Tls(e) => tr!(
                lang,
                "Không kết nối an toàn được với máy chủ MQTT {url} ({e}). Nếu máy chủ dùng chứng chỉ do huyện tự cấp, hãy chỉ tệp ca.crt của huyện bằng [district] ca-file (hoặc --ca-file); tên máy trong broker phải đúng tên ghi trong chứng chỉ.",
                "no secure connection to the broker {url} ({e}). If the broker's certificate is the district's own, give the district's ca.crt with [district] ca-file (or --ca-file); the host in broker must be the name in the certificate"
            ),
            ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => tr!(
                lang,
                "Máy chủ MQTT {url} không trả lời. Hãy kiểm tra mạng và địa chỉ [district] broker.",
                "the broker {url} does not answer. Check the network and [district] broker"
            ),
            other => tr!(
                lang,
                "Mất kết nối với máy chủ MQTT {url} ({other}).",
                "lost the connection to the broker {url} ({other})"
            ),
        }
    }
}

/// A client id for a tool's session: `loa-district-` and 8 random hex
/// digits (several tools may run at once).
pub fn tool_client_id() -> String {
    format!("loa-district-{}", random_hex(4))
}

/// `n` random bytes as hex (from the kernel; the clock and the process
/// id if it cannot be read).
pub fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut b = vec![0u8; n];
    let got = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if got.is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        for (i, x) in b.iter_mut().enumerate() {
            *x = (nanos >> ((i % 8) * 8)) as u8;
        }
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A tool's session with the broker.
pub struct Session {
    client: AsyncClient,
    events: EventLoop,
    /// Messages that came while waiting for something else.
    waiting: VecDeque<Publish>,
    link: Link,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("broker", &self.link.broker.url())
            .finish()
    }
}

/// What one turn of the event loop brought, besides messages.
enum Turn {
    SubAck(Vec<SubscribeReasonCode>),
    PubAck,
    Other,
}

impl Session {
    /// Connects with a clean session; Err when the broker cannot be
    /// reached or refuses the account.
    pub async fn open(link: &Link, client_id: &str) -> Result<Session, String> {
        let opts = link.options(client_id, false)?;
        let (client, events) = AsyncClient::new(opts, 16);
        let mut s = Session {
            client,
            events,
            waiting: VecDeque::new(),
            link: link.clone(),
        };
        let deadline = Instant::now() + CONNECT_WITHIN;
        loop {
            let polled = tokio::time::timeout_at(deadline, s.events.poll()).await;
            match polled {
                Err(_) => return Err(s.link.error(&ConnectionError::NetworkTimeout)),
                Ok(Err(e)) => return Err(s.link.error(&e)),
                Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => return Ok(s),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// One turn of the event loop (a message is kept for `next`).
    async fn turn(&mut self) -> Result<Turn, String> {
        match self.events.poll().await {
            Err(e) => Err(self.link.error(&e)),
            Ok(Event::Incoming(Packet::Publish(p))) => {
                self.waiting.push_back(p);
                Ok(Turn::Other)
            }
            Ok(Event::Incoming(Packet::SubAck(s))) => Ok(Turn::SubAck(s.return_codes)),
            Ok(Event::Incoming(Packet::PubAck(_))) => Ok(Turn::PubAck),
            Ok(_) => Ok(Turn::Other),
        }
    }

    /// Subscribes to `filters`, returning once the broker has taken them
    /// (its retained messages follow).
    pub async fn subscribe(&mut self, filters: &[(String, QoS)]) -> Result<(), String> {
        let lang = self.link.lang;
        let list: Vec<SubscribeFilter> = filters
            .iter()
            .map(|(f, q)| SubscribeFilter::new(f.clone(), *q))
            .collect();
        self.client
            .subscribe_many(list)
            .await
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + CONNECT_WITHIN;
        loop {
            let turn = tokio::time::timeout_at(deadline, self.turn())
                .await
                .map_err(|_| self.link.error(&ConnectionError::NetworkTimeout))??;
            if let Turn::SubAck(codes) = turn {
                if codes.contains(&SubscribeReasonCode::Failure) {
                    return Err(tr!(
                        lang,
                        "Máy chủ MQTT không cho tài khoản này đọc tin của các máy; hãy dùng tài khoản của huyện (add-box.sh --district) và tệp acl kèm theo loa.",
                        "the broker does not let this account read the boxes' messages; use the district's account (add-box.sh --district) and the acl shipped with loa"
                    ));
                }
                return Ok(());
            }
        }
    }

    /// Publishes `payload` to `topic` (QoS 1, not retained), returning
    /// once the broker has it.
    pub async fn publish(&mut self, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + PUBLISH_WITHIN;
        loop {
            let turn = tokio::time::timeout_at(deadline, self.turn())
                .await
                .map_err(|_| self.link.error(&ConnectionError::NetworkTimeout))??;
            if let Turn::PubAck = turn {
                return Ok(());
            }
        }
    }

    /// The next message, or None once `until` has passed.
    pub async fn next(&mut self, until: Instant) -> Result<Option<Publish>, String> {
        loop {
            if let Some(p) = self.waiting.pop_front() {
                return Ok(Some(p));
            }
            match tokio::time::timeout_at(until, self.turn()).await {
                Err(_) => return Ok(None),
                Ok(r) => {
                    r?;
                }
            }
        }
    }

    /// The messages that come until none has for `quiet`, or `at_most`
    /// has passed (the retained ones after a subscription).
    pub async fn gather(
        &mut self,
        quiet: Duration,
        at_most: Duration,
    ) -> Result<Vec<Publish>, String> {
        let end = Instant::now() + at_most;
        let mut got = Vec::new();
        loop {
            let until = (Instant::now() + quiet).min(end);
            match self.next(until).await? {
                Some(p) => got.push(p),
                None => return Ok(got),
            }
        }
    }

    /// Says goodbye to the broker (a moment at most).
    pub async fn close(mut self) {
        let _ = self.client.disconnect().await;
        let until = Instant::now() + Duration::from_millis(500);
        while let Ok(Ok(ev)) = tokio::time::timeout_at(until, self.events.poll()).await {
            if matches!(ev, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                break;
            }
        }
    }
}

/// A runtime for a tool's session (one thread: the tools wait on the
/// network, they do not compute).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_hex() {
        let (a, b) = (tool_client_id(), tool_client_id());
        assert!(a.starts_with("loa-district-") && a.len() == 21, "{a}");
        assert_ne!(a, b);
        assert!(random_hex(3).chars().all(|c| c.is_ascii_hexdigit()));
    }
}
