//! Checks a file's container header before any decoder sees it: a WAV, FLAC
//! or Ogg Vorbis header that says a sample rate of 0, no channels, an
//! impossible block size or sample width makes decoders divide by zero or
//! panic ("TimeBase cannot have 0 numerator"). Such a file is refused here,
//! with what is wrong, whatever the decoder would have done. Pure: it looks
//! at the file's first bytes only. What it cannot judge from the header is
//! left to the decoder (run contained, see `contain`) and to validation.

/// How many bytes of a file's start are looked at.
pub const LOOK_AT: usize = 64 * 1024;

/// The most channels and the highest rate a real announcement file has;
/// beyond them a header is taken as damaged.
const MAX_CHANNELS: u32 = 32;
const MAX_RATE: u32 = 768_000;

/// Checks the header at the start of a file (`head`: its first bytes, up to
/// [`LOOK_AT`]). Err says what is wrong, in English, for the log and the
/// rejection's detail; formats it does not know pass.
pub fn check(head: &[u8]) -> Result<(), String> {
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        return wav(head);
    }
    if head.starts_with(b"fLaC") {
        return flac(head);
    }
    if head.starts_with(b"OggS") {
        return ogg(head);
    }
    Ok(())
}

fn u16le(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 2)
        .map(|x| u32::from(u16::from_le_bytes([x[0], x[1]])))
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

fn rate_and_channels(rate: u32, channels: u32) -> Result<(), String> {
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(format!("the header says {channels} channels"));
    }
    if rate == 0 || rate > MAX_RATE {
        return Err(format!("the header says a sample rate of {rate} Hz"));
    }
    Ok(())
}

/// RIFF/WAVE: the `fmt ` chunk's fields must be possible and agree.
fn wav(b: &[u8]) -> Result<(), String> {
    let mut at = 12;
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let size = u32le(b, at + 4).unwrap_or(0) as usize;
        if id == b"fmt " {
            let f = at + 8;
            let (Some(tag), Some(channels), Some(rate), Some(align), Some(bits)) = (
                u16le(b, f),
                u16le(b, f + 2),
                u32le(b, f + 4),
                u16le(b, f + 12),
                u16le(b, f + 14),
            ) else {
                return Err("the WAV format chunk is cut short".into());
            };
            if size < 16 {
                return Err(format!(
                    "the WAV format chunk is {size} bytes (at least 16)"
                ));
            }
            rate_and_channels(rate, channels)?;
            if align == 0 {
                return Err("the WAV header says a block size of 0".into());
            }
            // PCM and float: each frame holds every channel's sample.
            if matches!(tag, 1 | 3 | 0xFFFE) {
                if bits == 0 || bits > 64 {
                    return Err(format!("the WAV header says {bits} bits per sample"));
                }
                let expected = channels * bits.div_ceil(8);
                if align != expected {
                    return Err(format!(
                        "the WAV header's block size ({align}) does not match {channels} channel(s) of {bits} bits"
                    ));
                }
            }
            return Ok(());
        }
        // Chunks are padded to an even length.
        at = at
            .saturating_add(8)
            .saturating_add(size)
            .saturating_add(size & 1);
    }
    // No format chunk in the part looked at: the decoder says what it finds.
    Ok(())
}

/// FLAC: STREAMINFO, the first metadata block.
fn flac(b: &[u8]) -> Result<(), String> {
    let Some(h) = b.get(4..8) else {
        return Err("the FLAC header is cut short".into());
    };
    if h[0] & 0x7F != 0 {
        return Err("the FLAC file does not start with its STREAMINFO block".into());
    }
    let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
    let Some(s) = b.get(8..8 + 34).filter(|_| len >= 34) else {
        return Err("the FLAC STREAMINFO block is cut short".into());
    };
    let min_block = u32::from(u16::from_be_bytes([s[0], s[1]]));
    let max_block = u32::from(u16::from_be_bytes([s[2], s[3]]));
    let rate = (u32::from(s[10]) << 12) | (u32::from(s[11]) << 4) | (u32::from(s[12]) >> 4);
    let channels = u32::from((s[12] >> 1) & 0x07) + 1;
    let bits = ((u32::from(s[12]) & 0x01) << 4 | u32::from(s[13]) >> 4) + 1;
    rate_and_channels(rate, channels)?;
    if min_block < 16 || max_block < min_block {
        return Err(format!(
            "the FLAC header says block sizes {min_block} to {max_block}"
        ));
    }
    if bits < 4 {
        return Err(format!("the FLAC header says {bits} bits per sample"));
    }
    Ok(())
}

/// Ogg: the first page's first packet; for Vorbis, its identification
/// header. Other Ogg codecs (Opus...) are left to the decoder, which names
/// them.
fn ogg(b: &[u8]) -> Result<(), String> {
    let Some(&segments) = b.get(26) else {
        return Err("the Ogg page header is cut short".into());
    };
    let table = 27 + usize::from(segments);
    let Some(p) = b.get(table..) else {
        return Err("the Ogg page header is cut short".into());
    };
    if !p.starts_with(b"\x01vorbis") {
        return Ok(());
    }
    let (Some(version), Some(&channels), Some(rate), Some(&sizes)) =
        (u32le(p, 7), p.get(11), u32le(p, 12), p.get(28))
    else {
        return Err("the Vorbis identification header is cut short".into());
    };
    if version != 0 {
        return Err(format!("the Vorbis header says version {version}"));
    }
    rate_and_channels(rate, u32::from(channels))?;
    let (small, large) = (sizes & 0x0F, sizes >> 4);
    if !(6..=13).contains(&small) || !(6..=13).contains(&large) || small > large {
        return Err(format!(
            "the Vorbis header says block sizes 2^{small} and 2^{large}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_header(rate: u32, channels: u16, align: u16, bits: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&1000u32.to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&rate.wrapping_mul(u32::from(align)).to_le_bytes());
        b.extend_from_slice(&align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&0u32.to_le_bytes());
        b
    }

    // Issue 11: a WAV whose header says sample rate 0 made the decoder
    // panic and lost the whole day's plan.
    #[test]
    fn impossible_wav_headers_are_refused_before_decoding() {
        assert_eq!(check(&wav_header(44_100, 2, 4, 16)), Ok(()));
        assert!(
            check(&wav_header(0, 2, 4, 16))
                .unwrap_err()
                .contains("0 Hz")
        );
        assert!(check(&wav_header(44_100, 0, 4, 16)).is_err());
        assert!(check(&wav_header(44_100, 2, 0, 16)).is_err());
        assert!(check(&wav_header(44_100, 2, 3, 16)).is_err());
        assert!(check(&wav_header(44_100, 2, 4, 0)).is_err());
        assert!(check(&wav_header(4_000_000_000, 2, 4, 16)).is_err());
        // Cut inside the format chunk.
        assert!(check(&wav_header(44_100, 2, 4, 16)[..28]).is_err());
        // Not a format it knows: left to the decoder.
        assert_eq!(check(b"ID3\x04\x00"), Ok(()));
    }

    #[test]
    fn impossible_flac_and_vorbis_headers_are_refused() {
        let mut flac = b"fLaC\x00\x00\x00\x22".to_vec();
        let mut si = [0u8; 34];
        si[0..2].copy_from_slice(&4096u16.to_be_bytes());
        si[2..4].copy_from_slice(&4096u16.to_be_bytes());
        // 44100 Hz, 2 channels, 16 bits.
        let (rate, ch, bits) = (44_100u32, 2u32, 16u32);
        si[10] = (rate >> 12) as u8;
        si[11] = (rate >> 4) as u8;
        si[12] = ((rate & 0xF) << 4) as u8 | (((ch - 1) << 1) as u8) | (((bits - 1) >> 4) as u8);
        si[13] = (((bits - 1) & 0xF) << 4) as u8;
        flac.extend_from_slice(&si);
        assert_eq!(check(&flac), Ok(()));
        let mut zero_rate = flac.clone();
        zero_rate[8 + 10] = 0;
        zero_rate[8 + 11] = 0;
        zero_rate[8 + 12] &= 0x0F;
        assert!(check(&zero_rate).is_err());
        let mut tiny_blocks = flac.clone();
        tiny_blocks[8..10].copy_from_slice(&0u16.to_be_bytes());
        assert!(check(&tiny_blocks).is_err());

        let mut ogg = b"OggS\x00\x02".to_vec();
        ogg.resize(26, 0);
        ogg.push(1);
        ogg.push(30);
        ogg.extend_from_slice(b"\x01vorbis");
        ogg.extend_from_slice(&0u32.to_le_bytes());
        ogg.push(2);
        ogg.extend_from_slice(&44_100u32.to_le_bytes());
        ogg.extend_from_slice(&[0; 12]);
        ogg.push(0xB8);
        ogg.push(1);
        assert_eq!(check(&ogg), Ok(()));
        let mut no_channels = ogg.clone();
        no_channels[28 + 11] = 0;
        assert!(check(&no_channels).is_err());
        let mut bad_sizes = ogg.clone();
        bad_sizes[28 + 28] = 0x8B;
        assert!(check(&bad_sizes).is_err());
    }
}
