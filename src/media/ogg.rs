//! Walks an Ogg file's pages as its bytes go by, during the measuring pass:
//! each page's checksum, bytes between pages that are not a page, and
//! whether the last page ends the stream. It reports what it saw and never
//! decodes audio; whether that makes a file cut off or damaged is
//! validate.rs's judgement.

/// How an Ogg file's bytes end.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) enum Ending {
    /// After a whole page that ends the stream.
    #[default]
    Clean,
    /// Inside a page: the end is missing.
    InPage,
    /// In bytes that are not a page.
    Junk,
    /// After a whole page that does not end the stream.
    Unended,
}

/// Walks an Ogg file's pages as its bytes go by: each page's checksum
/// (CRC-32 over the page: damage inside it shows), bytes between pages that
/// are not a page, and whether the last page ends the stream (its
/// end-of-stream flag: without it, the file was cut at a page boundary).
/// The position of trouble is the last good page's granule position, which
/// for Vorbis counts samples.
#[derive(Debug, Default)]
pub(super) struct OggWalk {
    /// None until the first bytes say whether this is Ogg at all.
    pub(super) active: Option<bool>,
    /// The page header being gathered ("OggS" to the segment table).
    header: Vec<u8>,
    /// Bytes of the current page's body still to come.
    body_left: usize,
    /// The checksum so far, and the one the page header gives.
    crc: u32,
    expected: u32,
    /// The current page's granule position and flags.
    granule: u64,
    flags: u8,
    /// Whole pages with a good checksum, and the last one's position.
    pub(super) pages: u64,
    last_granule: u64,
    /// The last good page ends the stream.
    ended: bool,
    /// Bytes that are not a page are being crossed (since this position).
    junk: Option<u64>,
    /// Stretches that are not pages, and pages with a bad checksum; where
    /// the first begins.
    pub(super) gaps: u32,
    pub(super) first_gap: Option<u64>,
    pub(super) ending: Ending,
}

impl OggWalk {
    pub(super) fn take(&mut self, data: &[u8]) {
        if self.active == Some(false) {
            return;
        }
        let mut i = 0;
        while i < data.len() {
            if self.body_left > 0 {
                let n = self.body_left.min(data.len() - i);
                self.crc = ogg_crc(self.crc, &data[i..i + n]);
                self.body_left -= n;
                i += n;
                if self.body_left == 0 {
                    self.end_page();
                }
                continue;
            }
            let b = data[i];
            i += 1;
            let held = self.header.len();
            if held < 4 {
                if b == b"OggS"[held] {
                    self.header.push(b);
                    if held == 3 {
                        self.active = Some(true);
                    }
                } else if self.active.is_none() {
                    self.active = Some(false);
                    return;
                } else {
                    // Not a page: resume looking for "OggS" at this byte.
                    self.junk.get_or_insert(self.last_granule);
                    self.header.clear();
                    if b == b'O' {
                        self.header.push(b);
                    }
                }
                continue;
            }
            self.header.push(b);
            if self.header.len() >= 27 && self.header.len() == 27 + usize::from(self.header[26]) {
                self.start_page();
            }
        }
    }

    fn start_page(&mut self) {
        let h = &mut self.header;
        self.expected = u32::from_le_bytes(h[22..26].try_into().unwrap());
        self.granule = u64::from_le_bytes(h[6..14].try_into().unwrap());
        self.flags = h[5];
        self.body_left = h[27..].iter().map(|&n| usize::from(n)).sum();
        h[22..26].fill(0);
        self.crc = ogg_crc(0, h);
        h.clear();
        if self.body_left == 0 {
            self.end_page();
        }
    }

    fn end_page(&mut self) {
        if self.crc == self.expected {
            if let Some(at) = self.junk.take() {
                self.gaps += 1;
                self.first_gap.get_or_insert(at);
            }
            self.pages += 1;
            // -1: no packet ends on this page.
            if self.granule != u64::MAX {
                self.last_granule = self.granule;
            }
            self.ended = self.flags & 4 != 0;
        } else {
            self.gaps += 1;
            self.first_gap.get_or_insert(self.last_granule);
        }
    }

    pub(super) fn finish(&mut self) {
        if self.active != Some(true) || self.pages == 0 {
            return;
        }
        self.ending = if self.body_left > 0 || !self.header.is_empty() {
            Ending::InPage
        } else if self.junk.is_some() {
            Ending::Junk
        } else if !self.ended {
            Ending::Unended
        } else {
            Ending::Clean
        };
    }
}

/// Ogg's CRC-32 (polynomial 0x04c11db7, not reflected), a byte at a time.
fn ogg_crc(mut crc: u32, bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut r = (i as u32) << 24;
            let mut bit = 0;
            while bit < 8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04c1_1db7
                } else {
                    r << 1
                };
                bit += 1;
            }
            table[i] = r;
            i += 1;
        }
        table
    };
    for &b in bytes {
        crc = (crc << 8) ^ TABLE[usize::from((crc >> 24) as u8 ^ b)];
    }
    crc
}
