//! `loa check --online`: each stream of the playlists tried for a few
//! seconds, and what was found said (codec, bitrate, station), or why it
//! could not be had.

use std::sync::Mutex;
use std::time::Duration;

use super::http;
use crate::lang::Lang;
use crate::tr;

/// How long a stream is tried.
pub const TRY_FOR: Duration = Duration::from_secs(3);

/// Connects to `url`, decodes its first sound, and says what it is; else
/// why it cannot be had.
pub fn probe(url: &str, lang: Lang) -> Result<String, String> {
    let opts = http::Options {
        connect: TRY_FOR,
        stall: TRY_FOR,
    };
    let stream = http::open(url, &opts, Box::new(|_| {})).map_err(|e| e.message(url, lang))?;
    let codec = stream.codec.name();
    let station = stream.station.clone();
    let bitrate = stream.bitrate_kbps;
    let ext = match stream.codec {
        http::Codec::Mp3 => "mp3",
        http::Codec::Aac => "aac",
        http::Codec::Ogg => "ogg",
    };
    let source = Box::new(symphonia::core::io::ReadOnlySource::new(SyncRead(
        Mutex::new(stream),
    )));
    let mut d = crate::media::decode::Decoder::from_source(source, Some(ext))
        .map_err(|e| e.message(url, lang))?;
    let mut first = Vec::new();
    match d.next_into(&mut first) {
        Ok(true) => {}
        Ok(false) => {
            return Err(tr!(
                lang,
                "{url} ngắt trước khi có âm thanh",
                "{url} ended before any sound"
            ));
        }
        Err(e) => return Err(e.message(url, lang)),
    }
    let (rate, ch) = (d.sample_rate, d.channels);
    let mut what = codec.to_string();
    if let Some(b) = bitrate {
        what.push_str(&format!(" {b} kbps"));
    }
    what.push_str(&tr!(
        lang,
        ", {rate} Hz, {ch} kênh",
        ", {rate} Hz, {ch} channel(s)"
    ));
    if let Some(s) = station {
        what.push_str(&tr!(lang, ", đài \"{s}\"", ", station \"{s}\""));
    }
    Ok(what)
}

/// A reader symphonia can hold (it wants `Sync`).
pub(super) struct SyncRead<R>(pub(super) Mutex<R>);

impl<R: std::io::Read> std::io::Read for SyncRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .read(buf)
    }
}
