//! Walks an MP3's frames as its bytes go by, during the measuring pass:
//! where each frame should start (from the length in the header of the one
//! before), the ID3v1, ID3v2 and APE tags around the audio, the stretches
//! between frames that are not audio, what a Xing/Info (LAME) or VBRI header
//! announces, and how the bytes end. It reports what it saw and never
//! decodes audio; whether that makes a file cut off or damaged is
//! validate.rs's judgement.

/// An MPEG audio frame header (the 4 bytes that start every frame).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct FrameHeader {
    /// 1, 2, or 25 for MPEG 2.5.
    version: u8,
    layer: u8,
    rate: u32,
    mono: bool,
    /// The whole frame's length in bytes, header included.
    pub(super) len: usize,
    /// Samples per channel the frame decodes to.
    pub(super) samples: u32,
    /// Layer III: the side information's length (a Xing header follows).
    side_info: usize,
    crc: bool,
}

impl FrameHeader {
    pub(super) fn parse(b: &[u8]) -> Option<FrameHeader> {
        let h = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
        if h & 0xffe0_0000 != 0xffe0_0000 {
            return None;
        }
        let (version, layer) = match ((h >> 19) & 3, (h >> 17) & 3) {
            (1, _) | (_, 0) => return None,
            (v, l) => ([25, 0, 2, 1][v as usize], [0, 3, 2, 1][l as usize]),
        };
        let (bitrate, rate) = ((h >> 12) & 0xf, (h >> 10) & 3);
        if bitrate == 0 || bitrate == 15 || rate == 3 {
            return None;
        }
        let rate = [44_100, 48_000, 32_000][rate as usize]
            >> match version {
                1 => 0,
                2 => 1,
                _ => 2,
            };
        const KBPS: [[u32; 14]; 5] = [
            [
                32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
            ],
            [
                32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
            ],
            [
                32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
            ],
            [
                32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
            ],
            [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
        ];
        let table = match (version, layer) {
            (1, l) => l as usize - 1,
            (_, 1) => 3,
            _ => 4,
        };
        let bps = KBPS[table][bitrate as usize - 1] * 1000;
        let padding = ((h >> 9) & 1) as usize;
        let (len, samples) = match (layer, version) {
            (1, _) => ((12 * bps / rate) as usize * 4 + padding * 4, 384),
            (2, _) | (3, 1) => ((144 * bps / rate) as usize + padding, 1152),
            _ => ((72 * bps / rate) as usize + padding, 576),
        };
        let mono = (h >> 6) & 3 == 3;
        let side_info = match (version, mono) {
            (1, true) => 17,
            (1, false) => 32,
            (_, true) => 9,
            (_, false) => 17,
        };
        Some(FrameHeader {
            version,
            layer,
            rate,
            mono,
            len,
            samples,
            side_info,
            crc: (h >> 16) & 1 == 0,
        })
    }

    /// Another frame of the same stream (the bitrate may change).
    fn same_stream(&self, other: &FrameHeader) -> bool {
        self.version == other.version
            && self.layer == other.layer
            && self.rate == other.rate
            && self.mono == other.mono
    }

    /// The frame count of a Xing/Info (LAME) or VBRI header in this frame,
    /// which counts the frames after it.
    fn announced_frames(&self, frame: &[u8]) -> Option<u64> {
        if self.layer != 3 {
            return None;
        }
        let be32 = |at: usize| {
            frame
                .get(at..at + 4)
                .map(|b| u64::from(u32::from_be_bytes(b.try_into().unwrap())))
        };
        let xing_at = 4 + self.side_info + if self.crc { 2 } else { 0 };
        for at in [4 + self.side_info, xing_at] {
            let id = frame.get(at..at + 4);
            if id == Some(b"Xing") || id == Some(b"Info") {
                let flags = be32(at + 4)?;
                return if flags & 1 != 0 { be32(at + 8) } else { None };
            }
        }
        if frame.get(36..40) == Some(b"VBRI") {
            return be32(36 + 14);
        }
        None
    }
}

/// How an MP3's bytes end.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) enum Ending {
    /// After a whole frame.
    #[default]
    Clean,
    /// After a whole tag (ID3v1, APE, ID3v2).
    Tag,
    /// Inside a frame: the end is missing.
    InFrame,
    /// Inside a tag after the audio: the very end is missing.
    InTag,
    /// In bytes that are neither audio nor a tag.
    Junk,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum Phase {
    /// At the start of the file: ID3v2 tags may come first.
    #[default]
    Start,
    /// Looking for the first frame.
    Seek,
    /// Right after a frame or a tag: the next one starts here.
    Synced,
    /// In bytes that are not audio, looking for the next frame.
    Lost,
}

/// What `MpegWalk::step` did.
enum Step {
    /// Needs more bytes than it has to decide.
    Need,
    /// Passed over this many bytes (perhaps more than it had).
    Consume(u64),
    /// Nothing more to do.
    Done,
}

/// Walks an MP3's frames as its bytes go by, from the length in each
/// frame's header: where every frame should start, whether one is there,
/// what lies between (tags, or bytes that are not audio), and how the file
/// ends. It holds at most a frame and a header of bytes at a time.
#[derive(Debug, Default)]
pub(super) struct MpegWalk {
    /// Bytes not yet interpreted; the first is at offset `at` of the file.
    held: Vec<u8>,
    at: u64,
    /// Bytes still to pass over (the rest of a frame or a tag).
    skip: u64,
    /// Whether `skip` is inside a frame (else inside a tag).
    skip_frame: bool,
    /// Whether the frame being passed over was counted as audio.
    skip_counted: bool,
    phase: Phase,
    /// Where looking for the first frame began (not MPEG audio if none
    /// within `SEEK_LIMIT`).
    seek_from: u64,
    /// The first frame's header: the stream's version, layer and rate.
    pub(super) reference: Option<FrameHeader>,
    /// What a Xing/Info or VBRI header in the first frame announces.
    pub(super) header: Option<u64>,
    /// Audio frames seen (not counting the header's frame).
    pub(super) frames: u64,
    /// Non-audio bytes are being crossed, since this many frames.
    junk: Option<u64>,
    /// Stretches of non-audio bytes between frames; the first's position
    /// in frames.
    pub(super) gaps: u32,
    pub(super) first_gap: Option<u64>,
    /// The last thing passed was a tag (not a frame).
    after_tag: bool,
    pub(super) ending: Ending,
    /// Not an MPEG audio stream (or beyond following): nothing to say.
    gave_up: bool,
}

impl MpegWalk {
    /// How far to look for the first frame.
    const SEEK_LIMIT: u64 = 64 * 1024;

    /// Takes the next bytes of the file (`eof`: there are no more).
    pub(super) fn take(&mut self, mut data: &[u8], eof: bool) {
        if self.gave_up {
            return;
        }
        if self.skip > 0 {
            let n = self.skip.min(data.len() as u64);
            self.skip -= n;
            self.at += n;
            data = &data[n as usize..];
            if self.skip > 0 {
                return;
            }
        }
        if self.held.is_empty() {
            let used = self.run(data, eof);
            self.held.extend_from_slice(&data[used..]);
        } else {
            let mut held = std::mem::take(&mut self.held);
            held.extend_from_slice(data);
            let used = self.run(&held, eof);
            held.drain(..used);
            self.held = held;
        }
    }

    /// Interprets `buf` (at offset `at`) as far as it can; returns the
    /// bytes used.
    fn run(&mut self, buf: &[u8], eof: bool) -> usize {
        let mut i = 0;
        loop {
            if self.gave_up {
                return buf.len();
            }
            match self.step(&buf[i..], eof) {
                Step::Need => return i,
                Step::Done => return buf.len(),
                Step::Consume(n) => {
                    let left = (buf.len() - i) as u64;
                    if n > left {
                        self.skip = n - left;
                        self.at += left;
                        return buf.len();
                    }
                    i += n as usize;
                    self.at += n;
                }
            }
        }
    }

    fn step(&mut self, buf: &[u8], eof: bool) -> Step {
        if buf.is_empty() {
            return if eof { Step::Done } else { Step::Need };
        }
        match self.phase {
            Phase::Start => {
                if buf.len() < 10 && !eof {
                    return Step::Need;
                }
                if let Some(len) = id3v2_len(buf) {
                    return self.pass_tag(len);
                }
                let other: [&[u8]; 5] = [b"RIFF", b"fLaC", b"OggS", b"FORM", b"RF64"];
                if other.iter().any(|m| buf.starts_with(m)) {
                    self.gave_up = true;
                    return Step::Done;
                }
                self.phase = Phase::Seek;
                self.seek_from = self.at;
                Step::Consume(0)
            }
            Phase::Synced => {
                if buf.len() < 4 && !eof {
                    return Step::Need;
                }
                if let Some(h) = FrameHeader::parse(buf)
                    && self.reference.is_none_or(|r| r.same_stream(&h))
                {
                    return self.pass_frame(h, buf);
                }
                match tag_len(buf, eof) {
                    Some(Some(len)) => return self.pass_tag(len),
                    Some(None) => return Step::Need,
                    None => {}
                }
                self.phase = Phase::Lost;
                Step::Consume(0)
            }
            Phase::Seek | Phase::Lost => {
                if self.phase == Phase::Seek && self.at - self.seek_from > Self::SEEK_LIMIT {
                    self.gave_up = true;
                    return Step::Done;
                }
                match self.candidate(buf, eof) {
                    Some(Some(Candidate::Frame(h))) => self.pass_frame(h, buf),
                    Some(Some(Candidate::Tag(len))) => self.pass_tag(len),
                    Some(None) => Step::Need,
                    None => {
                        // Not audio: on to the next byte that could start
                        // a frame or a tag.
                        let next = buf[1..]
                            .iter()
                            .position(|&b| matches!(b, 0xff | b'T' | b'I' | b'A'))
                            .map_or(buf.len(), |p| p + 1);
                        self.junk.get_or_insert(self.frames);
                        Step::Consume(next as u64)
                    }
                }
            }
        }
    }

    /// What starts at `buf[0]` when looking for audio: a frame (confirmed
    /// by the next frame's header, a tag, or the end right after it), a
    /// tag, or nothing (None); Some(None) when more bytes are needed.
    fn candidate(&self, buf: &[u8], eof: bool) -> Option<Option<Candidate>> {
        match buf[0] {
            0xff => {
                if buf.len() < 4 {
                    return if eof { None } else { Some(None) };
                }
                let h = FrameHeader::parse(buf)?;
                if self.reference.is_some_and(|r| !r.same_stream(&h)) {
                    return None;
                }
                let after = buf.get(h.len..).unwrap_or_default();
                if after.len() < 8 && !eof {
                    return Some(None);
                }
                let next_fits = FrameHeader::parse(after).is_some_and(|n| n.same_stream(&h));
                let ends = after.is_empty() && buf.len() == h.len;
                // A frame cut by the end of the file, in a stream already
                // recognised.
                let cut = eof && buf.len() < h.len && self.reference.is_some();
                (next_fits || ends || cut || starts_tag(after)).then_some(Some(Candidate::Frame(h)))
            }
            b'T' | b'I' | b'A' => tag_len(buf, eof).map(|len| len.map(Candidate::Tag)),
            _ => None,
        }
    }

    fn pass_frame(&mut self, h: FrameHeader, buf: &[u8]) -> Step {
        let counted = if self.reference.is_none() {
            self.reference = Some(h);
            // Bytes before the first frame are padding, not damage.
            self.junk = None;
            self.header = h.announced_frames(&buf[..h.len.min(buf.len())]);
            self.header.is_none()
        } else {
            true
        };
        if counted {
            self.frames += 1;
        }
        if let Some(frames_before) = self.junk.take() {
            self.gaps += 1;
            self.first_gap.get_or_insert(frames_before);
        }
        self.phase = Phase::Synced;
        self.after_tag = false;
        self.skip_frame = true;
        self.skip_counted = counted;
        Step::Consume(h.len as u64)
    }

    fn pass_tag(&mut self, len: u64) -> Step {
        if self.phase == Phase::Synced {
            self.after_tag = true;
        }
        self.skip_frame = false;
        Step::Consume(len)
    }

    /// Notes how the bytes ended.
    pub(super) fn finish(&mut self) {
        if self.gave_up || self.reference.is_none() {
            return;
        }
        self.ending = if self.skip > 0 && self.skip_frame {
            if self.skip_counted {
                self.frames -= 1;
            }
            Ending::InFrame
        } else if self.skip > 0 {
            Ending::InTag
        } else if self.junk.is_some() || !self.held.is_empty() {
            Ending::Junk
        } else if self.after_tag {
            Ending::Tag
        } else {
            Ending::Clean
        };
    }
}

enum Candidate {
    Frame(FrameHeader),
    Tag(u64),
}

/// An ID3v2 tag's whole length, if one starts here.
fn id3v2_len(b: &[u8]) -> Option<u64> {
    if !b.starts_with(b"ID3") || b.len() < 10 || b[3] == 0xff || b[4] == 0xff {
        return None;
    }
    if b[6..10].iter().any(|&x| x >= 0x80) {
        return None;
    }
    let size = b[6..10]
        .iter()
        .fold(0u64, |acc, &x| (acc << 7) | u64::from(x));
    let footer = if b[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

/// The length of a tag that starts here (ID3v1, ID3v2, APE): None if none
/// does, Some(None) if more bytes are needed to tell.
fn tag_len(b: &[u8], eof: bool) -> Option<Option<u64>> {
    let need = |n: usize| {
        if b.len() < n && !eof {
            Some(None)
        } else {
            None
        }
    };
    if b.starts_with(b"TAG") {
        return Some(Some(128));
    }
    if b"ID3".starts_with(&b[..b.len().min(3)]) || b"APETAGEX".starts_with(&b[..b.len().min(8)]) {
        if b.starts_with(b"ID3") {
            return match id3v2_len(b) {
                Some(len) => Some(Some(len)),
                None => need(10),
            };
        }
        if b.starts_with(b"APETAGEX") && b.len() >= 32 {
            let le32 = |at: usize| u64::from(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()));
            let is_header = le32(20) & (1 << 29) != 0;
            return Some(Some(if is_header { 32 + le32(12) } else { 32 }));
        }
        return need(32);
    }
    None
}

fn starts_tag(b: &[u8]) -> bool {
    b.starts_with(b"TAG") || b.starts_with(b"ID3") || b.starts_with(b"APETAGEX")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::test_audio::{encoders, mp3};

    #[test]
    fn the_frame_walk_does_not_depend_on_how_the_bytes_come() {
        if !encoders() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let f = mp3(
            dir.path(),
            "t.mp3",
            "3",
            "0.5",
            &["-V", "5", "--add-id3v2", "--tt", "x"],
        );
        let mut bytes = std::fs::read(&f).unwrap();
        let mid = bytes.len() / 3;
        bytes[mid..mid + 1000].fill(0);
        bytes.truncate(bytes.len() - 300);
        let walk = |chunk: usize| {
            let mut w = MpegWalk::default();
            for piece in bytes.chunks(chunk) {
                w.take(piece, false);
            }
            w.take(&[], true);
            w.finish();
            (w.header, w.frames, w.gaps, w.first_gap, w.ending, w.at)
        };
        let whole = walk(bytes.len());
        assert_eq!(whole.2, 1, "{whole:?}");
        assert_eq!(whole.4, Ending::InFrame, "{whole:?}");
        for chunk in [1, 3, 7, 417, 4096] {
            assert_eq!(walk(chunk), whole, "in pieces of {chunk}");
        }
    }
}
