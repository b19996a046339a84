//! The MQTT client's options for either end of the link: the broker's
//! address, TLS with the configured CA (or the system's), the
//! credentials, a persistent session (clean session off) and keep-alive.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{LastWill, MqttOptions, QoS, TlsConfiguration, Transport};

use super::creds::Credentials;
use crate::config::district::Broker;
use crate::lang::Lang;
use crate::tr;

/// The keep-alive the issue asks for.
pub const KEEP_ALIVE: Duration = Duration::from_secs(60);

/// The client's options. `client_id` names the session the broker keeps
/// (a box's name; the district's tools their own). `will`: the topic and
/// payload the broker publishes (retained) if the client vanishes.
pub fn options(
    broker: &Broker,
    client_id: &str,
    creds: Option<&Credentials>,
    ca_file: Option<&std::path::Path>,
    will: Option<(String, &str)>,
    persistent: bool,
    lang: Lang,
) -> Result<MqttOptions, String> {
    let mut o = MqttOptions::new(client_id, &broker.host, broker.port);
    o.set_keep_alive(KEEP_ALIVE);
    o.set_clean_session(!persistent);
    // Commands carry up to 8 MB of audio, base64 (a third more).
    o.set_max_packet_size(12 * 1024 * 1024, 12 * 1024 * 1024);
    if let Some(c) = creds {
        o.set_credentials(&c.username, &c.password);
    }
    if let Some((topic, payload)) = will {
        o.set_last_will(LastWill::new(topic, payload, QoS::AtLeastOnce, true));
    }
    if broker.tls {
        o.set_transport(Transport::tls_with_config(tls(ca_file, lang)?));
    }
    Ok(o)
}

/// rustls with ring, trusting `ca_file` (PEM) or else the system's CAs.
fn tls(ca_file: Option<&std::path::Path>, lang: Lang) -> Result<TlsConfiguration, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(p) => {
            let shown = crate::problem::display_path(p);
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(p)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| {
                    tr!(
                        lang,
                        "Không đọc được chứng chỉ CA {shown} ([district] ca-file): {e}",
                        "cannot read the CA certificate {shown} ([district] ca-file): {e}"
                    )
                })?;
            for c in certs {
                roots.add(c).map_err(|e| format!("{shown}: {e}"))?;
            }
        }
        None => {
            for c in std::fs::read_dir("/etc/ssl/certs")
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "pem"))
            {
                if let Ok(it) = CertificateDer::pem_file_iter(c.path()) {
                    for cert in it.flatten() {
                        let _ = roots.add(cert);
                    }
                }
            }
        }
    }
    // The crate's one provider (ring, as ureq's).
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConfiguration::Rustls(Arc::new(config)))
}
