//! The level of a live programme, which cannot be measured ahead like a
//! file: a gentle automatic level control brings its short-term level
//! towards `[audio] target-lufs` (within ±12 dB, at most 1.5 dB a second,
//! holding still through pauses), then a true-peak limiter (4x oversampled, 8 frames ahead) keeps it under
//! -1 dBFS, so a relayed programme is as loud as the commune's own files
//! and never clips.
//!
//! The level is the mean square of the signal over about 3 s (a plain
//! RMS, not K-weighted: for speech and news programmes the two differ by
//! a dB or two, well inside what the control corrects).

/// How far the control may go.
const MAX_GAIN_DB: f32 = 12.0;
/// How fast the gain may move, dB per second.
const SLEW_DB_PER_S: f32 = 1.5;
/// Below this level (over 0.4 s), or 15 dB under the programme's level,
/// the programme is paused: the gain holds.
const GATE_DB: f32 = -50.0;
const PAUSE_DB: f32 = 15.0;
/// The pause detector's time constant.
const FAST_S: f32 = 0.4;
/// The level's time constant.
const WINDOW_S: f32 = 3.0;
/// The limiter's ceiling (-1 dBFS) and release time.
const CEILING: f32 = 0.891;
const RELEASE_S: f32 = 0.1;

/// How a live item's level is set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Level {
    /// `[audio] target-lufs`.
    pub target_lufs: f64,
    /// Whether the level is controlled towards it (`[audio] normalize`);
    /// else only the limiter works.
    pub control: bool,
    /// The gain the engine applies after the relay (`[audio] volume-db`
    /// and the item's `volume-db`), in dB: a boost lowers the limiter's
    /// ceiling by as much, so that the card still never clips.
    pub after_db: f64,
}

/// Frames per step of the level control (its dB arithmetic is done once a
/// block; the gain moves smoothly across the block).
const BLOCK: usize = 32;
/// The true-peak detector's window, in frames (its interpolation filter's
/// length); the limiter looks this half ahead.
const TAPS: usize = 16;
const AHEAD: usize = TAPS / 2;

/// The level control and limiter for one live item.
#[derive(Debug)]
pub struct Leveler {
    channels: usize,
    /// Whether the level is controlled (`[audio] normalize`); the limiter
    /// always works.
    control: bool,
    target_db: f32,
    gain_db: f32,
    /// The linear gain at the end of the last block.
    gain: f32,
    mean_square: f32,
    /// The same over 0.4 s, to tell a pause.
    fast_square: f32,
    /// Per-block smoothing of the mean squares, and the gain's slew.
    alpha: f32,
    fast_alpha: f32,
    slew_per_block: f32,
    /// The limiter's gain and its recovery per frame.
    limit: f32,
    release: f32,
    /// The limiter's ceiling, before the engine's gain.
    ceiling: f32,
    peaks: TruePeak,
    /// Whether quiet blocks take the fast path (the tests compare).
    fast: bool,
}

impl Leveler {
    /// For frames at `rate` Hz with `channels`, set by `level`.
    pub fn new(rate: u32, channels: usize, level: Level) -> Leveler {
        let rate = rate.max(1) as f32;
        let block = BLOCK as f32;
        let channels = channels.max(1);
        Leveler {
            channels,
            control: level.control,
            target_db: level.target_lufs as f32,
            ceiling: CEILING * 10f32.powf(-(level.after_db.max(0.0) as f32) / 20.0),
            gain_db: 0.0,
            gain: 1.0,
            mean_square: 0.0,
            fast_square: 0.0,
            alpha: (block / (WINDOW_S * rate)).min(1.0),
            fast_alpha: (block / (FAST_S * rate)).min(1.0),
            slew_per_block: SLEW_DB_PER_S * block / rate,
            limit: 1.0,
            release: 1.0 / (RELEASE_S * rate),
            peaks: TruePeak::new(channels),
            fast: true,
        }
    }

    /// The gain the control applies now, in dB.
    pub fn gain_db(&self) -> f32 {
        self.gain_db
    }

    /// Levels interleaved `frames` in place. The output is late by
    /// [`AHEAD`] frames (a sixth of a millisecond at 48 kHz): the limiter
    /// sees the peaks between samples before it lets a sample through.
    pub fn process(&mut self, frames: &mut [f32]) {
        let ch = self.channels;
        for block in frames.chunks_mut(BLOCK * ch) {
            let n = block.len() / ch;
            let start = self.gain;
            if self.control {
                self.steer(block);
            }
            let end = self.gain;
            // A block whose samples all stay 6 dB under the ceiling, after
            // a window that did too, with the limiter at rest: nothing in
            // it can be limited (the detector would not even interpolate),
            // so it only passes through the lookahead.
            let loud = block.iter().fold(0.0f32, |m, s| m.max(s.abs())) * start.max(end);
            let quiet = loud * 2.0 <= self.ceiling;
            if self.fast && quiet && self.limit >= 1.0 && self.peaks.quiet && n >= TAPS {
                self.peaks.pass(block, start, end);
                continue;
            }
            self.peaks.quiet = false;
            for (i, frame) in block.chunks_exact_mut(ch).enumerate() {
                let g = start + (end - start) * (i + 1) as f32 / n as f32;
                self.peaks.push(frame, g);
                // Attack at once (never over the ceiling), release slowly.
                let recovered = (self.limit + self.release).min(1.0);
                let peak = self.peaks.peak(self.ceiling / recovered);
                self.limit = if peak * recovered > self.ceiling {
                    self.ceiling / peak
                } else {
                    recovered
                };
                self.peaks.take(frame, self.limit);
            }
            // (A short last block leaves older frames in the window.)
            self.peaks.quiet = quiet && n >= TAPS;
        }
    }

    /// Measures a block and moves the gain towards the target.
    fn steer(&mut self, block: &[f32]) {
        let ms = block.iter().map(|s| s * s).sum::<f32>() / block.len().max(1) as f32;
        self.fast_square += self.fast_alpha * (ms - self.fast_square);
        let fast_db = 10.0 * self.fast_square.max(1e-12).log10();
        let level_db = 10.0 * self.mean_square.max(1e-12).log10();
        let pause = fast_db < GATE_DB.max(level_db - PAUSE_DB);
        if !pause {
            self.mean_square += self.alpha * (ms - self.mean_square);
        }
        if !pause && level_db > GATE_DB {
            let want = (self.target_db - level_db).clamp(-MAX_GAIN_DB, MAX_GAIN_DB);
            let step = (want - self.gain_db).clamp(-self.slew_per_block, self.slew_per_block);
            if step != 0.0 {
                self.gain_db += step;
                self.gain = 10f32.powf(self.gain_db / 20.0);
            }
        }
    }
}

/// The true peak of the frame about to leave: its samples and the signal
/// between them, found by 4x oversampling (a windowed-sinc interpolator
/// over [`TAPS`] frames), as ITU-R BS.1770 measures it. The filter runs
/// only when a sample is within 6 dB of the limit: most of the time no
/// peak between samples can reach it.
#[derive(Debug)]
struct TruePeak {
    channels: usize,
    /// Each channel's last TAPS frames, written twice (at i and i + TAPS)
    /// so that a window is one slice: `[c][pos + 1 .. pos + 1 + TAPS]`.
    history: Vec<Vec<f32>>,
    pos: usize,
    /// The peak between the leaving frame and the one before, per channel.
    before: Vec<f32>,
    coef: [[f32; TAPS]; 3],
    /// Whether every sample in the window is 6 dB under the ceiling.
    quiet: bool,
    /// A block at its gain, for [`TruePeak::pass`].
    scratch: Vec<f32>,
}

impl TruePeak {
    fn new(channels: usize) -> TruePeak {
        let mut coef = [[0.0f32; TAPS]; 3];
        for (p, row) in coef.iter_mut().enumerate() {
            let t = (p + 1) as f64 / 4.0;
            for (k, c) in row.iter_mut().enumerate() {
                // The point between frames AHEAD - 1 and AHEAD of the window.
                let x = (AHEAD - 1) as f64 + t - k as f64;
                let sinc = if x == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
                };
                let hann = 0.5 * (1.0 + (std::f64::consts::PI * x / AHEAD as f64).cos());
                *c = (sinc * hann) as f32;
            }
        }
        TruePeak {
            channels,
            history: vec![vec![0.0; 2 * TAPS]; channels],
            pos: 0,
            before: vec![0.0; channels],
            coef,
            quiet: true,
            scratch: Vec::new(),
        }
    }

    /// A quiet block through the lookahead: at its gain (from `start` to
    /// `end` across it), late by [`AHEAD`] frames, as the frame-by-frame
    /// path would give it when nothing is limited.
    fn pass(&mut self, block: &mut [f32], start: f32, end: f32) {
        let ch = self.channels;
        let n = block.len() / ch;
        self.scratch.clear();
        for (i, frame) in block.chunks_exact(ch).enumerate() {
            let g = start + (end - start) * (i + 1) as f32 / n as f32;
            self.scratch.extend(frame.iter().map(|s| s * g));
        }
        // The window's frames still to leave, then the block's first.
        for k in 0..AHEAD {
            for c in 0..ch {
                block[k * ch + c] = self.window(c)[AHEAD + k];
            }
        }
        block[AHEAD * ch..].copy_from_slice(&self.scratch[..(n - AHEAD) * ch]);
        // The window now holds the block's last frames.
        for frame in self.scratch[(n - TAPS) * ch..].chunks_exact(ch) {
            self.pos = (self.pos + 1) % TAPS;
            for (h, s) in self.history.iter_mut().zip(frame) {
                h[self.pos] = *s;
                h[self.pos + TAPS] = *s;
            }
        }
        for c in 0..ch {
            let w = self.window(c);
            self.before[c] = w[AHEAD - 2..AHEAD + 1]
                .iter()
                .fold(0.0f32, |m, s| m.max(s.abs()));
        }
    }

    /// Takes in a frame at gain `g`.
    fn push(&mut self, frame: &[f32], g: f32) {
        self.pos = (self.pos + 1) % TAPS;
        for (h, s) in self.history.iter_mut().zip(frame) {
            h[self.pos] = s * g;
            h[self.pos + TAPS] = s * g;
        }
    }

    /// A channel's window, oldest first.
    fn window(&self, c: usize) -> &[f32] {
        &self.history[c][self.pos + 1..self.pos + 1 + TAPS]
    }

    /// The leaving frame's true peak; the filter runs only when a sample
    /// near it is within 6 dB of `limit`.
    fn peak(&mut self, limit: f32) -> f32 {
        let mut peak = 0.0f32;
        for c in 0..self.channels {
            let w = self.window(c);
            let near = w[AHEAD - 2..AHEAD + 2]
                .iter()
                .fold(0.0f32, |m, s| m.max(s.abs()));
            let between = if near * 2.0 > limit {
                self.coef
                    .iter()
                    .map(|row| row.iter().zip(w).map(|(a, b)| a * b).sum::<f32>().abs())
                    .fold(0.0f32, f32::max)
            } else {
                near
            };
            let here = w[AHEAD - 1].abs();
            peak = peak.max(here).max(between).max(self.before[c]);
            self.before[c] = between;
        }
        peak
    }

    /// Writes the leaving frame, at `limit`, into `out`.
    fn take(&self, out: &mut [f32], limit: f32) {
        for (c, o) in out.iter_mut().enumerate().take(self.channels) {
            *o = self.window(c)[AHEAD - 1] * limit;
        }
    }
}

#[cfg(test)]
mod tests {
    const LEVEL: super::Level = super::Level {
        target_lufs: -16.0,
        control: true,
        after_db: 0.0,
    };
    use super::*;

    fn tone(amp: f32, seconds: f32) -> Vec<f32> {
        let rate = 48_000.0;
        (0..(seconds * rate) as usize)
            .flat_map(|i| {
                let s = amp * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate).sin();
                [s, s]
            })
            .collect()
    }

    /// The output without the lookahead's first frames (stereo).
    fn late(y: &[f32]) -> &[f32] {
        &y[2 * AHEAD..]
    }

    fn rms_db(x: &[f32]) -> f32 {
        10.0 * (x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32).log10()
    }

    #[test]
    fn a_quiet_programme_is_brought_up_slowly_and_at_most_12_db() {
        // -36 dBFS RMS, target -16: 20 dB short, 12 dB allowed.
        let mut l = Leveler::new(48_000, 2, LEVEL);
        let mut x = tone(0.0224, 20.0);
        l.process(&mut x);
        let first = rms_db(&x[..2 * 48_000]);
        let last = rms_db(&x[x.len() - 2 * 48_000..]);
        assert!(first < -33.0, "slow: {first} dB in the first second");
        assert!((last - (-36.0 + 12.0)).abs() < 0.5, "{last} dB at the end");
    }

    #[test]
    fn a_loud_programme_never_clips() {
        let mut l = Leveler::new(48_000, 2, LEVEL);
        let mut x = tone(1.0, 3.0);
        l.process(&mut x);
        let peak = x.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(peak <= CEILING + 1e-4, "{peak}");
        // Coming down towards the target, at most 1.5 dB a second.
        assert!(l.gain_db() < -3.0 && l.gain_db() > -5.0, "{}", l.gain_db());
    }

    #[test]
    fn quiet_blocks_pass_as_the_frame_by_frame_path_gives_them() {
        // Quiet and loud stretches, the gain moving, blocks of odd sizes.
        let x: Vec<f32> = (0..3 * 48_000)
            .flat_map(|i| {
                let t = i as f32 / 48_000.0;
                let amp = if ((t * 2.0) as u32).is_multiple_of(2) {
                    0.05
                } else {
                    0.8
                };
                let s = amp * (2.0 * std::f32::consts::PI * 440.0 * t).sin();
                [s, 0.5 * s]
            })
            .collect();
        let run = |fast: bool| {
            let mut l = Leveler::new(48_000, 2, LEVEL);
            l.fast = fast;
            let mut y = x.clone();
            for chunk in y.chunks_mut(2 * 1001) {
                l.process(chunk);
            }
            y
        };
        let (fast, slow) = (run(true), run(false));
        let worst = fast
            .iter()
            .zip(&slow)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst < 1e-5, "{worst}");
    }

    #[test]
    fn peaks_between_samples_are_limited_too() {
        // A quarter of the sample rate at 45°: every sample is at 0.85, the
        // wave between them at 0.85 x 1.414 = 1.2. A sample-peak limiter
        // would let it through; the true peak must stay under -1 dBFS.
        let x: Vec<f32> = (0..48_000)
            .flat_map(|i| {
                let s = 0.85
                    * (std::f32::consts::FRAC_PI_2 * i as f32 + std::f32::consts::FRAC_PI_4).sin();
                [s, s]
            })
            .collect();
        let mut l = Leveler::new(
            48_000,
            2,
            Level {
                control: false,
                ..LEVEL
            },
        );
        let mut y = x.clone();
        l.process(&mut y);
        let steady = &late(&y)[2 * 4800..];
        let sample_peak = steady.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let true_peak = sample_peak * std::f32::consts::SQRT_2;
        assert!(true_peak <= CEILING + 0.01, "true peak {true_peak}");
        assert!(
            true_peak > CEILING - 0.05,
            "not cut more than needed: {true_peak}"
        );
        // A low tone at the same sample level has no such peaks: untouched.
        let mut calm = tone(0.85, 1.0);
        let before = calm.clone();
        Leveler::new(
            48_000,
            2,
            Level {
                control: false,
                ..LEVEL
            },
        )
        .process(&mut calm);
        assert_eq!(late(&calm), &before[..before.len() - 2 * AHEAD]);
    }

    #[test]
    fn a_boost_after_the_relay_lowers_the_ceiling_by_as_much() {
        // The item's volume-db = +6: the engine multiplies by 2 after the
        // relay, so the relay keeps peaks under -7 dBFS.
        let mut l = Leveler::new(
            48_000,
            2,
            Level {
                after_db: 6.0,
                ..LEVEL
            },
        );
        let mut x = tone(0.9, 2.0);
        l.process(&mut x);
        let peak = x.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let boosted = peak * 10f32.powf(6.0 / 20.0);
        assert!(
            boosted <= CEILING + 1e-3,
            "{boosted} after the engine's +6 dB"
        );
        // A cut after the relay leaves the ceiling where it is.
        let mut cut = Leveler::new(
            48_000,
            2,
            Level {
                after_db: -6.0,
                control: false,
                ..LEVEL
            },
        );
        let mut y = tone(0.85, 1.0);
        let before = y.clone();
        cut.process(&mut y);
        assert_eq!(late(&y), &before[..before.len() - 2 * AHEAD]);
    }

    #[test]
    fn a_pause_holds_the_gain_and_without_control_only_the_limiter_acts() {
        // A loud tone brought down 7 dB, then 10 s of silence: the gain
        // holds (it moves a little while the pause is being told, never
        // back up by the 19 dB a plain control would).
        let mut l = Leveler::new(48_000, 2, LEVEL);
        let mut x = tone(0.5, 10.0);
        l.process(&mut x);
        let g = l.gain_db();
        assert!((g - -7.0).abs() < 0.5, "{g}");
        let mut silence = vec![0.0; 2 * 48_000 * 10];
        l.process(&mut silence);
        assert!((l.gain_db() - g).abs() < 2.5, "{g} then {}", l.gain_db());
        let mut plain = Leveler::new(
            48_000,
            2,
            Level {
                control: false,
                ..LEVEL
            },
        );
        let mut y = tone(0.05, 1.0);
        let before = y.clone();
        plain.process(&mut y);
        assert_eq!(late(&y), &before[..before.len() - 2 * AHEAD]);
    }
}
