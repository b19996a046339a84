//! The district: a commune's box reports to, and takes orders from, its
//! district over MQTT (a real broker, Mosquitto). Written once for both
//! ends: the topics and message shapes (`proto`), the credentials file
//! (`creds`), the client's options (`connect`); the box's side of the link
//! runs in `loa run` (`link`, `command`), the district's in `loa
//! district` (`cli::district`, `collect`). A box never depends on the
//! link: it keeps airing its own schedule when the district is away.

mod command;
pub mod connect;
pub mod creds;
pub mod link;
pub mod proto;

pub mod board;
pub mod collect;
pub mod report;
pub mod send;
pub mod store;
pub mod tools;
