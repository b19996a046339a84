//! The pure part of the item pipeline: gain and raised-cosine fades at the
//! file's rate, the output's channels, then its rate (`Pipeline`, with its
//! `Resampler` and `map_channels`). No IO, no threads: the output engine's
//! feeder runs it block by block.

use std::time::Duration;

/// Raised-cosine ramp: 0 at x = 0, 1 at x = 1.
pub(super) fn ramp(x: f32) -> f32 {
    let x = x.clamp(0.0, 1.0);
    0.5 - 0.5 * (std::f32::consts::PI * x).cos()
}

/// Turns one file's decoded samples into output frames: gain and fades at
/// the file's rate (the fade-out waits until the end is known), then the
/// output's channels, then its rate. Pure: no IO, no threads.
pub struct Pipeline {
    in_ch: usize,
    out_ch: usize,
    gain: f32,
    fade_frames: usize,
    /// Input frames already past the fade-in.
    emitted: usize,
    /// Input samples held back until the fade-out's place is known.
    pending: Vec<f32>,
    resampler: Resampler,
    /// Scratch buffers, reused.
    mapped: Vec<f32>,
}

impl Pipeline {
    /// A pipeline from `in_rate` Hz and `in_ch` channels to `out_rate` Hz and
    /// `out_ch` channels, at linear `gain`, with `fade` in and out.
    pub fn new(
        in_rate: u32,
        in_ch: usize,
        out_rate: u32,
        out_ch: usize,
        gain: f32,
        fade: Duration,
    ) -> Pipeline {
        Pipeline {
            in_ch: in_ch.max(1),
            out_ch: out_ch.max(1),
            gain,
            fade_frames: (fade.as_secs_f64() * in_rate as f64).round() as usize,
            emitted: 0,
            pending: Vec::new(),
            resampler: Resampler::new(in_rate, out_rate, out_ch.max(1)),
            mapped: Vec::new(),
        }
    }

    /// Feeds decoded input (interleaved); appends ready output frames.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let g = self.gain;
        self.pending
            .extend(input.iter().map(|s| (s * g).clamp(-1.0, 1.0)));
        let hold = self.fade_frames * self.in_ch;
        if self.pending.len() > hold {
            let n = (self.pending.len() - hold) / self.in_ch * self.in_ch;
            if n > 0 {
                self.emit(n, false, out);
            }
        }
    }

    /// The input ended: fades the tail out and flushes everything.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let n = self.pending.len() / self.in_ch * self.in_ch;
        self.emit(n, true, out);
        self.resampler.flush(out);
    }

    fn emit(&mut self, n: usize, last: bool, out: &mut Vec<f32>) {
        let ch = self.in_ch;
        let frames = n / ch;
        let fade = self.fade_frames;
        // Fade in.
        if self.emitted < fade {
            for (i, frame) in self.pending[..n].chunks_mut(ch).enumerate() {
                let f = self.emitted + i;
                if f >= fade {
                    break;
                }
                let g = ramp((f as f32 + 0.5) / fade as f32);
                frame.iter_mut().for_each(|s| *s *= g);
            }
        }
        // Fade out the very end.
        if last && fade > 0 {
            let k = fade.min(frames);
            for (i, frame) in self.pending[..n]
                .chunks_mut(ch)
                .skip(frames - k)
                .enumerate()
            {
                let left = k - i;
                let g = ramp((left as f32 - 0.5) / fade as f32);
                frame.iter_mut().for_each(|s| *s *= g);
            }
        }
        self.emitted += frames;
        // Channels.
        self.mapped.clear();
        map_channels(&self.pending[..n], ch, self.out_ch, &mut self.mapped);
        self.pending.drain(..n);
        self.resampler.process(&self.mapped, out);
    }
}

/// Maps interleaved frames from `in_ch` to `out_ch` channels: mono is copied
/// to every output, several to mono are averaged, otherwise channels are
/// taken in order (missing ones silent).
pub fn map_channels(input: &[f32], in_ch: usize, out_ch: usize, out: &mut Vec<f32>) {
    if in_ch == out_ch {
        out.extend_from_slice(input);
        return;
    }
    for frame in input.chunks_exact(in_ch) {
        if in_ch == 1 {
            out.extend(std::iter::repeat_n(frame[0], out_ch));
        } else if out_ch == 1 {
            out.push(frame.iter().sum::<f32>() / in_ch as f32);
        } else {
            for c in 0..out_ch {
                out.push(frame.get(c).copied().unwrap_or(0.0));
            }
        }
    }
}

/// A streaming 4-point (Catmull-Rom) resampler, exact pass-through when the
/// rates are equal.
pub struct Resampler {
    ch: usize,
    /// Input frames per output frame.
    step: f64,
    /// Position of the next output frame, relative to `hist[1]`.
    pos: f64,
    /// The last 3 input frames of the previous block, per channel.
    hist: Vec<[f32; 3]>,
    primed: bool,
    passthrough: bool,
}

impl Resampler {
    /// A resampler from `in_rate` to `out_rate` Hz for `ch` interleaved
    /// channels (passing frames through unchanged when the rates are equal).
    pub fn new(in_rate: u32, out_rate: u32, ch: usize) -> Resampler {
        Resampler {
            ch,
            step: in_rate as f64 / out_rate as f64,
            pos: 0.0,
            hist: vec![[0.0; 3]; ch],
            primed: false,
            passthrough: in_rate == out_rate,
        }
    }

    /// Resamples interleaved input frames; appends output frames.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if self.passthrough {
            out.extend_from_slice(input);
            return;
        }
        let ch = self.ch;
        let n = input.len() / ch;
        if n == 0 {
            return;
        }
        if !self.primed {
            // Start as if the signal had been at its first value before.
            for (h, &first) in self.hist.iter_mut().zip(&input[..ch]) {
                *h = [first; 3];
            }
            // The first output frame is the first input frame, s[3].
            self.pos = 2.0;
            self.primed = true;
        }
        // Sample k of the extended signal: k < 3 from history, else input.
        let at = |hist: &[[f32; 3]], c: usize, k: isize| -> f32 {
            if k < 3 {
                hist[c][k.max(0) as usize]
            } else {
                input[(k as usize - 3) * ch + c]
            }
        };
        // Interpolating between x1 and x2 needs x0..x3: with the extended
        // signal s, pos p means between s[1 + floor p] and the next.
        let total = n as f64 + 3.0;
        loop {
            let base = 1.0 + self.pos.floor();
            if base + 2.0 >= total {
                break;
            }
            let t = (self.pos - self.pos.floor()) as f32;
            let k = base as isize;
            for c in 0..ch {
                let (x0, x1, x2, x3) = (
                    at(&self.hist, c, k - 1),
                    at(&self.hist, c, k),
                    at(&self.hist, c, k + 1),
                    at(&self.hist, c, k + 2),
                );
                let a = -0.5 * x0 + 1.5 * x1 - 1.5 * x2 + 0.5 * x3;
                let b = x0 - 2.5 * x1 + 2.0 * x2 - 0.5 * x3;
                let cc = -0.5 * x0 + 0.5 * x2;
                out.push(((a * t + b) * t + cc) * t + x1);
            }
            self.pos += self.step;
        }
        // Keep the last 3 frames; positions become relative to them.
        for c in 0..ch {
            let last = |j: usize| at(&self.hist, c, (n + 3 - 3 + j) as isize);
            self.hist[c] = [last(0), last(1), last(2)];
        }
        self.pos -= n as f64;
    }

    /// The input ended: nothing is held back beyond interpolation context.
    pub fn flush(&mut self, _out: &mut Vec<f32>) {}
}
