//! The tap between the sound card's feeder and the archive's encoder: a
//! lock-free ring the feeder copies every block it writes into, without
//! ever waiting. When the encoder falls behind and the ring is full, the
//! block is dropped and counted (the recording then lacks it, and the log
//! says how much); the sound card is never delayed for the archive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::Thread;

/// Samples the ring holds: about 5 s of 48 kHz stereo, so that an encoder
/// busy for a moment (a slow SD card write) loses nothing.
pub const RING_SAMPLES: usize = 1 << 19;

/// What the feeder's side and the encoder's side share.
#[derive(Debug, Default)]
pub struct TapShared {
    /// The device's rate, set by the feeder when it takes the tap (0: not
    /// yet): the encoder starts LAME at it.
    pub rate: AtomicU32,
    /// Channels per frame of what is pushed.
    pub channels: AtomicU32,
    /// Frames the ring had no room for (the encoder lagged).
    pub dropped: AtomicU64,
    /// Set when the recording is to end even though the feeder still
    /// holds the tap (a feeder stuck in a decoder is left behind).
    pub closing: AtomicBool,
}

/// The feeder's end: [`Tap::push`] copies what goes to the sound card.
pub struct Tap {
    ring: rtrb::Producer<f32>,
    shared: Arc<TapShared>,
    /// The encoder's thread, woken once the ring fills past a quarter (it
    /// otherwise looks every `encoder::POLL`).
    encoder: Thread,
    channels: usize,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tap({} ch)", self.channels)
    }
}

impl Tap {
    /// A tap writing into `ring`, whose reader runs on `encoder`.
    pub fn new(ring: rtrb::Producer<f32>, shared: Arc<TapShared>, encoder: Thread) -> Tap {
        Tap {
            ring,
            shared,
            encoder,
            channels: 0,
        }
    }

    /// The format of what will be pushed: the device's rate and channels.
    /// Called by the feeder when it takes the tap, before any push.
    pub fn set_format(&mut self, rate: u32, channels: usize) {
        self.channels = channels.max(1);
        self.shared
            .channels
            .store(self.channels as u32, Ordering::Release);
        self.shared.rate.store(rate, Ordering::Release);
        self.encoder.unpark();
    }

    /// A copy of `data` (whole interleaved frames, as written to the card)
    /// for the archive. Never waits: without room for all of it, the block
    /// is dropped and counted.
    pub fn push(&mut self, data: &[f32]) {
        if data.is_empty() || self.channels == 0 {
            return;
        }
        match self.ring.write_chunk(data.len()) {
            Ok(mut chunk) => {
                let (a, b) = chunk.as_mut_slices();
                let split = a.len();
                a.copy_from_slice(&data[..split]);
                b.copy_from_slice(&data[split..]);
                chunk.commit_all();
            }
            Err(_) => {
                self.shared
                    .dropped
                    .fetch_add((data.len() / self.channels) as u64, Ordering::Relaxed);
            }
        }
        let capacity = self.ring.buffer().capacity();
        if capacity - self.ring.slots() > capacity / 4 {
            self.encoder.unpark();
        }
    }
}

impl Tap {
    /// Samples the ring has room for now (a test or a bench that must not
    /// lose anything waits for room; the feeder never does).
    pub fn room(&self) -> usize {
        self.ring.slots()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        // The encoder sees the ring abandoned and closes the file.
        self.encoder.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_ring_drops_and_counts_without_waiting() {
        let (producer, mut consumer) = rtrb::RingBuffer::<f32>::new(8);
        let shared = Arc::new(TapShared::default());
        let mut tap = Tap::new(producer, shared.clone(), std::thread::current());
        tap.set_format(48_000, 2);
        tap.push(&[0.5; 6]);
        // No room for 3 more frames: dropped, counted, nothing blocks.
        tap.push(&[0.25; 6]);
        assert_eq!(shared.dropped.load(Ordering::Relaxed), 3);
        assert_eq!(consumer.slots(), 6);
        let chunk = consumer.read_chunk(6).unwrap();
        assert!(chunk.into_iter().all(|s| s == 0.5));
        tap.push(&[0.25; 4]);
        assert_eq!(consumer.slots(), 4);
    }
}
