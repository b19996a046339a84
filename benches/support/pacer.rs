//! A paced stand-in sound card for the relay bench, which also watches what
//! it takes. The ALSA stand-in's `file` plugin (support/standin.rs) writes
//! into a named pipe (`LOA_TEST_CAPTURE` names it); a thread of the bench
//! takes 10 ms of sound from it every 10 ms, with a pipe buffer of one page
//! (21 ms), so a program can never be more than a real card's buffer ahead
//! of the clock. After a pause (nothing written) it starts again from now,
//! never catching up with a burst. It keeps no sound: it counts it, notes
//! when the first byte and the first non-zero sample came, and counts the
//! 10 ms steps of pure silence inside the sound (a relay's dropouts), and
//! when it took its first byte at all (the card's start).
//!
//! Like tests/cli/util/sound.rs's `Pacer` and loa's own
//! `loa::player::standin::PacedCapture`, but kept apart from both: the
//! figures are taken through it, so it must not share a fault with the code
//! it measures.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::standin::CAPTURE_BYTES_PER_SECOND;

/// The card's step: 10 ms of S16_LE stereo at 48 kHz.
const STEP_BYTES: usize = CAPTURE_BYTES_PER_SECOND as usize / 100;

/// What the card has taken so far.
#[derive(Clone, Debug, Default)]
pub struct Heard {
    /// When it took its first byte, silent or not: the card's start.
    pub first_byte: Option<Instant>,
    /// When it took its first non-zero sample.
    pub first_sound: Option<Instant>,
    /// Bytes taken, all told.
    pub bytes: u64,
    /// Byte offsets of the first non-zero byte and just past the last.
    sound_from: u64,
    sound_to: u64,
    /// Silent steps inside the sound, and in how many stretches.
    pub gap_steps: u64,
    pub gaps: u64,
    /// Silent steps since the last sound (not a gap unless sound follows).
    zero_run: u64,
    /// How many times a program opened the device.
    pub opens: u32,
}

impl Heard {
    /// Seconds from the first to the last non-zero sample.
    pub fn sound_seconds(&self) -> f64 {
        if self.first_sound.is_none() {
            return 0.0;
        }
        (self.sound_to - self.sound_from) as f64 / CAPTURE_BYTES_PER_SECOND
    }

    /// Seconds of all that was taken.
    pub fn seconds(&self) -> f64 {
        self.bytes as f64 / CAPTURE_BYTES_PER_SECOND
    }

    /// Seconds of silent 10 ms steps inside the sound.
    pub fn gap_seconds(&self) -> f64 {
        self.gap_steps as f64 * STEP_BYTES as f64 / CAPTURE_BYTES_PER_SECOND
    }

    /// One step taken at `at`.
    fn take(&mut self, step: &[u8], at: Instant) {
        if self.first_byte.is_none() && !step.is_empty() {
            self.first_byte = Some(at);
        }
        match step.iter().position(|&b| b != 0) {
            Some(i) => {
                if self.first_sound.is_none() {
                    // The card plays the step from `at`: the sample is i bytes in.
                    let into = i as f64 / CAPTURE_BYTES_PER_SECOND;
                    self.first_sound = Some(at + Duration::from_secs_f64(into));
                    self.sound_from = self.bytes + i as u64;
                } else if self.zero_run > 0 {
                    self.gap_steps += self.zero_run;
                    self.gaps += 1;
                }
                self.zero_run = 0;
                let last = step.iter().rposition(|&b| b != 0).unwrap_or(i);
                self.sound_to = self.bytes + last as u64 + 1;
            }
            None if self.first_sound.is_some() && step.len() == STEP_BYTES => self.zero_run += 1,
            None => {}
        }
        self.bytes += step.len() as u64;
    }
}

/// The paced card; its thread stops when it is finished or dropped.
pub struct PacedCard {
    fifo: PathBuf,
    stop: Arc<AtomicBool>,
    heard: Arc<Mutex<Heard>>,
    thread: Option<JoinHandle<()>>,
}

impl PacedCard {
    /// Makes the named pipe `fifo` (gone first if it was there) and starts
    /// the thread, which waits for a program to open it.
    pub fn start(fifo: &Path) -> std::io::Result<PacedCard> {
        let _ = std::fs::remove_file(fifo);
        rustix::fs::mknodat(
            rustix::fs::CWD,
            fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )?;
        let stop = Arc::new(AtomicBool::new(false));
        let heard = Arc::new(Mutex::new(Heard::default()));
        let (s, h, f) = (stop.clone(), heard.clone(), fifo.to_path_buf());
        let thread = std::thread::Builder::new()
            .name("paced-card".into())
            .spawn(move || drain(&s, &h, &f))?;
        Ok(PacedCard {
            fifo: fifo.to_path_buf(),
            stop,
            heard,
            thread: Some(thread),
        })
    }

    /// The pipe, for `LOA_TEST_CAPTURE`.
    pub fn fifo(&self) -> &Path {
        &self.fifo
    }

    /// What it has taken so far.
    pub fn heard(&self) -> Heard {
        self.heard.lock().unwrap().clone()
    }

    /// Once the program has ended: stops the thread, removes the pipe and
    /// returns what was taken.
    pub fn finish(mut self) -> Heard {
        self.stop_thread();
        self.heard()
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::Release);
        let Some(thread) = self.thread.take() else {
            return;
        };
        // The thread may wait in `open` for a writer: opening the other end
        // wakes it (tried until it has ended, it may be on its way there).
        let t = Instant::now();
        while !thread.is_finished() && t.elapsed() < Duration::from_secs(2) {
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.fifo);
            std::thread::sleep(Duration::from_millis(1));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.fifo);
    }
}

impl Drop for PacedCard {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// The thread: each time a program opens the device, takes a step every
/// 10 ms until it closes it.
fn drain(stop: &AtomicBool, heard: &Mutex<Heard>, fifo: &Path) {
    let mut buf = vec![0u8; STEP_BYTES];
    while !stop.load(Ordering::Acquire) {
        // Blocks until a program opens the device.
        let Ok(mut input) = std::fs::File::open(fifo) else {
            return;
        };
        if stop.load(Ordering::Acquire) {
            return;
        }
        heard.lock().unwrap().opens += 1;
        // One page: the program can be at most 21 ms ahead of the clock.
        let _ = rustix::pipe::fcntl_setpipe_size(&input, 4096);
        let mut next = Instant::now();
        loop {
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let n = read_full(&mut input, &mut buf);
            if n == 0 {
                break;
            }
            let now = Instant::now();
            // After a pause, from now: no catching up with a burst.
            if now > next + Duration::from_millis(20) {
                next = now;
            }
            heard.lock().unwrap().take(&buf[..n], now);
            next += Duration::from_secs_f64(n as f64 / CAPTURE_BYTES_PER_SECOND);
        }
    }
}

/// Reads until `buf` is full or the writer has gone; the bytes read.
fn read_full(input: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    got
}
