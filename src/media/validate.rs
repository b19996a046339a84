//! Full validation of an uploaded audio file: it is decoded once (the
//! measuring pass, measure.rs) while its bytes are checked for what decoders
//! let through silently (the MP3 frame walk and the Ogg page walk, mpeg.rs
//! and ogg.rs, fed by the `Scan` observer here), and the answer is a
//! [`Verdict`]: the file's facts, or a [`Rejection`] that tells the
//! operator, in their language, what is wrong and what to do. It does not
//! move, rename or index files, nor watch folders: ingest does, with this
//! answer.
//!
//! What is caught, and how:
//! - empty, unreadable, not audio, a codec loa cannot play (Opus, AAC...):
//!   from opening the file;
//! - cut off: an MP3 whose Xing/Info (LAME) or VBRI header announces more
//!   frames than decode (beyond two frames: the encoder's delay and padding
//!   are inside the count), or whose last frame stops before the length its
//!   header gives (the frame walk, mpeg.rs); an Ogg whose last page is
//!   incomplete or does not end the stream; a WAV or FLAC with fewer
//!   frames than its data size or STREAMINFO announce;
//! - damaged, with the time where it starts: bytes between MP3 frames or
//!   Ogg pages that are not audio (4 KB zeroed in the middle: decoders skip
//!   them without a word), Ogg pages whose checksum fails, FLAC sample
//!   numbers that jump, packets the codec refuses, a container error;
//! - silent or nearly so: integrated loudness below -60 LUFS (or none
//!   above the -70 LUFS gate), or true peak below -50 dBFS;
//! - shorter than 0.5 s, longer than 2 h, an unusual sample rate.
//!
//! What cannot be caught, and why:
//! - an MP3 without a Xing/VBRI header (plain CBR from some encoders) cut
//!   exactly between two frames: every frame left is whole and nothing in
//!   the file says how long it was (its size shrank with it; a missing
//!   ID3v1 tag proves nothing, most files have none). Cut anywhere else,
//!   its last frame is incomplete: at 128 kbps that is 416 cuts in 417.
//!   Halving a CBR file exactly can land between frames, though (the
//!   tests show one);
//! - bytes changed inside MP3 frames with the headers intact (bit rot,
//!   random overwrites): MP3 has no checksum over its audio (the optional
//!   CRC covers the side information only; LAME's music CRC is not checked
//!   because volume tools such as MP3Gain rewrite frames legitimately), so
//!   the decoder plays them as noise without an error;
//! - damage inside a WAV's samples: PCM has no structure to check (4 KB of
//!   zeros is 23 ms of silence); a WAV written to a pipe (size "unknown")
//!   cannot be checked for a cut;
//! - a stale header: after an editor trimmed an MP3 without updating its
//!   Xing count, a complete tag at the very end proves the upload
//!   finished, and the file passes;
//! - damage before an MP3's first frame: indistinguishable from padding
//!   after its ID3 tag, and it plays as nothing.

use super::folder::MediaPath;
use super::measure::{ByteObserver, Measurement, measure};
use super::mpeg::{self, MpegWalk};
use super::ogg::{self, OggWalk};
use super::probe::Probe;
use super::rejection::{MAX_DURATION, MIN_DURATION, RejectKind, Rejection};

/// Integrated loudness below this is silence, LUFS.
pub const SILENT_LOUDNESS_LUFS: f64 = -60.0;
/// A true peak below this is silence, dBFS.
pub const SILENT_PEAK_DB: f64 = -50.0;
/// Sample rates that real recordings and encoders use.
pub const ACCEPTED_RATES: [u32; 11] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000,
];
/// An MP3 may decode this many frames fewer than its header announces.
const MP3_TOLERANCE_FRAMES: u64 = 2;

/// Validation's answer for one file.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// It will play: its facts, for the media index.
    Ok(Probe),
    /// It must not air.
    Rejected(Rejection),
}

/// Decodes and checks the whole file, reading and decoding it once: about
/// 1.3x the time `mpg123 -t` takes to decode it, on two threads (twice its
/// CPU time: loudness and true peak are measured too).
pub fn validate(media: &MediaPath) -> Verdict {
    match measure(media, Scan::default()) {
        Err(e) => Verdict::Rejected(e.into()),
        Ok((m, scan)) => match judge(&m, &scan) {
            None => Verdict::Ok(m.probe),
            Some(kind) => Verdict::Rejected(Rejection::new(kind)),
        },
    }
}

/// The checks, in the order an operator should hear about problems: the
/// upload first (damaged, cut off), then the recording.
fn judge(m: &Measurement, scan: &Scan) -> Option<RejectKind> {
    let p = &m.probe;
    let time = |frames: u64| m.frames_to_duration(frames);
    // The MP3 frame walk, when this is an MP3 it could follow.
    let mpeg = scan
        .mpeg
        .reference
        .filter(|_| p.codec == "mp3")
        .map(|r| (&scan.mpeg, u64::from(r.samples)));

    // The Ogg page walk, when this is Ogg.
    let ogg = Some(&scan.ogg).filter(|o| o.active == Some(true) && o.pages > 0);

    let gaps = mpeg.map_or(0, |(s, _)| s.gaps) + ogg.map_or(0, |o| o.gaps) + m.skips;
    if gaps > 0 || p.decode_errors > 0 || m.stream_error.is_some() {
        let at = [
            mpeg.and_then(|(s, spf)| s.first_gap.map(|f| f * spf)),
            ogg.and_then(|o| o.first_gap),
            m.first_skip_at,
            m.first_error_at,
            m.stream_error.as_ref().map(|_| m.frames),
        ]
        .into_iter()
        .flatten()
        .min();
        return Some(RejectKind::Damaged {
            decode_errors: p.decode_errors,
            gaps,
            at: at.map(time),
        });
    }

    let (announced, tolerance) = match mpeg {
        // The header counts every frame the codec decodes; the encoder
        // delay and padding (the LAME header's) are trimmed from `frames`.
        Some((s, spf)) => (
            s.header
                .map(|frames| (frames * spf).saturating_sub(m.trimmed)),
            MP3_TOLERANCE_FRAMES * spf,
        ),
        // Symphonia's figure for an MP3 without a header is a guess from
        // the bitrate.
        None if p.codec == "mp3" => (None, 0),
        // A WAV from ffmpeg's pipe (or another streaming writer) says
        // "unknown" with the largest size there is.
        None if scan.head.starts_with(b"RIFF") && scan.head.get(4..8) == Some(&[0xff; 4]) => {
            (None, 0)
        }
        None if p.codec.starts_with("pcm") || p.codec == "flac" => (m.announced_frames, 0),
        // An Ogg's length comes from its last page, cut or not: the page
        // walk tells.
        None if ogg.is_some() => (None, 0),
        None => (m.announced_frames, 2048),
    };
    let cut = mpeg
        .is_some_and(|(s, _)| matches!(s.ending, mpeg::Ending::InFrame | mpeg::Ending::InTag))
        || ogg.is_some_and(|o| matches!(o.ending, ogg::Ending::InPage | ogg::Ending::Unended));
    let short = announced.is_some_and(|a| a > m.frames + tolerance);
    // A complete tag after the last frame: the upload reached the end, so
    // a shortfall is a stale header (an editor trimmed the file).
    let ends_whole = mpeg.is_some_and(|(s, _)| s.ending == mpeg::Ending::Tag);
    if cut || (short && !ends_whole) {
        return Some(RejectKind::Truncated {
            decoded: time(m.frames),
            announced: announced.filter(|&a| a > m.frames).map(time),
        });
    }

    if !ACCEPTED_RATES.contains(&p.sample_rate) {
        return Some(RejectKind::UnusualRate {
            rate: p.sample_rate,
        });
    }
    let duration = time(m.frames);
    if duration < MIN_DURATION {
        return Some(RejectKind::TooShort { duration });
    }
    if duration > MAX_DURATION {
        return Some(RejectKind::TooLong { duration });
    }
    let quiet = p.loudness_lufs.is_none_or(|l| l < SILENT_LOUDNESS_LUFS)
        || p.true_peak_db.is_none_or(|db| db < SILENT_PEAK_DB);
    if quiet {
        return Some(RejectKind::Silent {
            loudness_lufs: p.loudness_lufs,
            true_peak_db: p.true_peak_db,
        });
    }
    None
}

/// What validation learns from the file's bytes during the measuring pass:
/// its first bytes, and the walk over its MP3 frames or Ogg pages.
#[derive(Debug, Default)]
struct Scan {
    head: Vec<u8>,
    mpeg: MpegWalk,
    ogg: OggWalk,
}

impl ByteObserver for Scan {
    fn observe(&mut self, bytes: &[u8]) {
        if self.head.len() < 16 {
            let n = (16 - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
        }
        self.mpeg.take(bytes, false);
        self.ogg.take(bytes);
    }

    fn end(&mut self) {
        self.mpeg.take(&[], true);
        self.mpeg.finish();
        self.ogg.finish();
    }
}

#[cfg(test)]
mod tests;
