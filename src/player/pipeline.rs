//! The pure part of the item pipeline: gain and raised-cosine fades at the
//! file's rate, the output's channels, then its rate (`Pipeline`, with its
//! `Resampler`, rubato's FFT resampler, and `map_channels`). No IO, no threads: the output engine's
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
        self.emit_ready(out);
    }

    /// Lets `fill` append decoded input (interleaved) straight into the
    /// pipeline (no copy on the way), then as [`Pipeline::push`]. What
    /// `fill` returns is returned; on an error nothing it appended is kept.
    pub fn push_from<E>(
        &mut self,
        out: &mut Vec<f32>,
        fill: impl FnOnce(&mut Vec<f32>) -> Result<bool, E>,
    ) -> Result<bool, E> {
        let at = self.pending.len();
        let more = match fill(&mut self.pending) {
            Ok(more) => more,
            Err(e) => {
                self.pending.truncate(at);
                return Err(e);
            }
        };
        let g = self.gain;
        for s in &mut self.pending[at..] {
            *s = (*s * g).clamp(-1.0, 1.0);
        }
        self.emit_ready(out);
        Ok(more)
    }

    /// Emits what is past the fade-out's hold.
    fn emit_ready(&mut self, out: &mut Vec<f32>) {
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
        // Channels, then the rate; at the device's own rate (the usual
        // case: the device is opened at the file's rate) straight out.
        if self.resampler.is_passthrough() {
            map_channels(&self.pending[..n], ch, self.out_ch, out);
        } else {
            self.mapped.clear();
            map_channels(&self.pending[..n], ch, self.out_ch, &mut self.mapped);
            self.resampler.process(&self.mapped, out);
        }
        self.pending.drain(..n);
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

/// A streaming band-limited resampler (rubato's synchronous FFT
/// resampler), for when the device cannot take the file's rate: exact
/// pass-through when the rates are equal. Never drops or repeats samples;
/// its delay is trimmed, so the output starts with the first input frame
/// and has exactly the input's length at the new rate.
pub struct Resampler {
    inner: Option<Box<Sinc>>,
}

/// Input frames per resampling chunk (the FFT resampler's fixed input).
const CHUNK: usize = 1024;

struct Sinc {
    fft: rubato::Fft<f32>,
    ch: usize,
    in_rate: u64,
    out_rate: u64,
    /// Interleaved input not yet resampled (less than a chunk, between
    /// calls).
    input: Vec<f32>,
    /// The resampler's output for one chunk.
    scratch: Vec<f32>,
    /// Output frames still to drop: the resampler's delay.
    skip: usize,
    in_frames: u64,
    out_frames: u64,
}

impl Resampler {
    /// A resampler from `in_rate` to `out_rate` Hz for `ch` interleaved
    /// channels (passing frames through unchanged when the rates are equal).
    pub fn new(in_rate: u32, out_rate: u32, ch: usize) -> Resampler {
        if in_rate == out_rate || in_rate == 0 || out_rate == 0 {
            return Resampler { inner: None };
        }
        let ch = ch.max(1);
        // Rates were checked when the file was validated (never 0), and a
        // chunk of 1024 frames suits every pair of rates.
        let fft = rubato::Fft::<f32>::new(
            in_rate as usize,
            out_rate as usize,
            CHUNK,
            ch,
            rubato::FixedSync::Input,
        )
        .expect("a resampler between two non-zero rates");
        use rubato::Resampler as _;
        let skip = fft.output_delay();
        let scratch = vec![0.0; fft.output_frames_max() * ch];
        Resampler {
            inner: Some(Box::new(Sinc {
                fft,
                ch,
                in_rate: u64::from(in_rate),
                out_rate: u64::from(out_rate),
                input: Vec::with_capacity(2 * CHUNK * ch),
                scratch,
                skip,
                in_frames: 0,
                out_frames: 0,
            })),
        }
    }

    /// Whether frames pass through unchanged (equal rates).
    pub fn is_passthrough(&self) -> bool {
        self.inner.is_none()
    }

    /// Resamples interleaved input frames; appends output frames.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        match &mut self.inner {
            None => out.extend_from_slice(input),
            Some(s) => s.process(input, out),
        }
    }

    /// The input ended: what the resampler holds goes out, to exactly the
    /// input's length at the new rate.
    pub fn flush(&mut self, out: &mut Vec<f32>) {
        if let Some(s) = &mut self.inner {
            s.flush(out);
        }
    }
}

impl Sinc {
    fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.in_frames += (input.len() / self.ch) as u64;
        self.input.extend_from_slice(input);
        let mut at = 0;
        loop {
            let need = rubato::Resampler::input_frames_next(&self.fft);
            if (self.input.len() - at) / self.ch < need {
                break;
            }
            let used = self.run(at, need, false, out);
            at += used * self.ch;
        }
        self.input.drain(..at);
    }

    fn flush(&mut self, out: &mut Vec<f32>) {
        let total = (self.in_frames * self.out_rate).div_ceil(self.in_rate);
        let left = self.input.len() / self.ch;
        self.run(0, left, true, out);
        self.input.clear();
        // The resampler's delay still holds the end: push silence through.
        let mut guard = 0;
        while self.out_frames < total && guard < 64 {
            self.run(0, 0, true, out);
            guard += 1;
        }
    }

    /// One chunk from `input[at..]` (`frames` of it; fewer than a chunk
    /// only at the end, `partial`); appends what is past the delay and
    /// within the total length. Returns the input frames used.
    fn run(&mut self, at: usize, frames: usize, partial: bool, out: &mut Vec<f32>) -> usize {
        use rubato::Resampler as _;
        use rubato::audioadapter_buffers::direct::InterleavedSlice;
        let ch = self.ch;
        let max_out = self.scratch.len() / ch;
        let (Ok(inp), Ok(mut outp)) = (
            InterleavedSlice::new(&self.input[at..at + frames * ch], ch, frames),
            InterleavedSlice::new_mut(&mut self.scratch[..], ch, max_out),
        ) else {
            return frames;
        };
        let indexing = partial.then(|| rubato::Indexing::new().partial_len(frames));
        let Ok((_used, made)) = self
            .fft
            .process_into_buffer(&inp, &mut outp, indexing.as_ref())
        else {
            return frames;
        };
        let dropped = self.skip.min(made);
        self.skip -= dropped;
        let mut keep = made - dropped;
        if partial {
            let total = (self.in_frames * self.out_rate).div_ceil(self.in_rate);
            keep = keep.min(total.saturating_sub(self.out_frames) as usize);
        }
        out.extend_from_slice(&self.scratch[dropped * ch..(dropped + keep) * ch]);
        self.out_frames += keep as u64;
        frames
    }
}
