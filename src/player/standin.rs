//! A sound card that takes samples at real time, for machines without one:
//! ALSA's `file` plugin writes into a named pipe that a thread drains at the
//! card's rate into a capture file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A stand-in for a sound card where there is none (`loa demo`, the
/// benchmarks): a thread takes 10 ms of sound
/// every 10 ms from a named pipe (of one page: ALSA can be at most 21 ms
/// ahead, like with a real card's buffer) and appends it to the capture.
/// A paused stream takes nothing and catches up with nothing.
pub struct PacedCapture {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    fifo: PathBuf,
    thread: std::thread::JoinHandle<()>,
}

/// S16_LE, 48 kHz, stereo.
const CAPTURE_BYTES_PER_SECOND: usize = 48_000 * 2 * 2;

impl PacedCapture {
    /// None if the pipe cannot be made (then ALSA writes the capture
    /// directly, as fast as it can).
    pub fn start(fifo: &Path, capture: &Path) -> Option<PacedCapture> {
        use std::sync::atomic::{AtomicBool, Ordering};
        rustix::fs::mknodat(
            rustix::fs::CWD,
            fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .ok()?;
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (s, f, c) = (stop.clone(), fifo.to_path_buf(), capture.to_path_buf());
        let thread = std::thread::Builder::new()
            .name("demo-card".into())
            .spawn(move || {
                let Ok(mut out) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&c)
                else {
                    return;
                };
                let step = CAPTURE_BYTES_PER_SECOND / 100;
                let mut buf = vec![0u8; step];
                while !s.load(Ordering::Acquire) {
                    // Blocks until the service opens the device.
                    let Ok(mut input) = std::fs::File::open(&f) else {
                        return;
                    };
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
                        if now > next + Duration::from_millis(20) {
                            next = now;
                        }
                        if out.write_all(&buf[..n]).is_err() {
                            return;
                        }
                        next += Duration::from_secs_f64(n as f64 / CAPTURE_BYTES_PER_SECOND as f64);
                    }
                }
            })
            .ok()?;
        Some(PacedCapture {
            stop,
            fifo: fifo.to_path_buf(),
            thread,
        })
    }

    /// Once the service has ended: the thread finishes.
    pub fn stop(self) {
        use std::os::unix::fs::OpenOptionsExt;
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        // Wakes it if it waits for a writer.
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.fifo);
        let _ = self.thread.join();
    }
}

/// Reads until `buf` is full or the writer has gone; the bytes read.
fn read_full(input: &mut std::fs::File, buf: &mut [u8]) -> usize {
    use std::io::Read;
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
