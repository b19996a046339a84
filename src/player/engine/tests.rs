//! Tests of the output engine's pure parts: the resampler (length, pitch,
//! pass-through) and the item pipeline (gain, fades, channel mapping).

use super::*;

#[test]
fn equal_rates_pass_through_exactly() {
    let mut r = Resampler::new(48_000, 48_000, 2);
    let input: Vec<f32> = (0..200).map(|i| i as f32).collect();
    let mut out = Vec::new();
    r.process(&input, &mut out);
    assert_eq!(out, input);
}

#[test]
fn resampling_keeps_length_and_pitch() {
    // 1 s of 1 kHz at 22050 Hz, in blocks, to 48 kHz.
    let rate_in = 22_050.0;
    let input: Vec<f32> = (0..22_050)
        .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate_in).sin() * 0.5)
        .collect();
    let mut r = Resampler::new(22_050, 48_000, 1);
    let mut out = Vec::new();
    for block in input.chunks(1000) {
        r.process(block, &mut out);
    }
    r.flush(&mut out);
    // Exactly the input's length at the new rate, its delay trimmed.
    assert_eq!(out.len(), 48_000);
    let crossings = out.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
    assert!((crossings as i64 - 1000).abs() <= 2, "{crossings}");
    // Interpolation stays close to the true sine.
    let err = out
        .iter()
        .enumerate()
        .skip(200)
        .take(47_000)
        .map(|(i, v)| {
            let t = i as f32 / 48_000.0;
            (v - (2.0 * std::f32::consts::PI * 1000.0 * t).sin() * 0.5).abs()
        })
        .fold(0.0f32, f32::max);
    assert!(err < 0.01, "max error {err}");
}

#[test]
fn resampling_down_keeps_length_and_leaves_no_alias() {
    // Issue 13: a band-limited resampler, not interpolation: 1 s of a
    // 20 kHz tone at 48 kHz, to 22050 Hz (where it is above the Nyquist
    // frequency), comes out silent rather than folded back as a 2 kHz
    // whistle; a 1 kHz tone comes out whole.
    let tone = |hz: f32| -> Vec<f32> {
        (0..48_000)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / 48_000.0).sin() * 0.5)
            .collect()
    };
    let run = |input: &[f32]| {
        let mut r = Resampler::new(48_000, 22_050, 1);
        let mut out = Vec::new();
        for block in input.chunks(1152) {
            r.process(block, &mut out);
        }
        r.flush(&mut out);
        out
    };
    let peak = |v: &[f32]| {
        v[500..v.len() - 500]
            .iter()
            .fold(0.0f32, |m, s| m.max(s.abs()))
    };
    let high = run(&tone(20_000.0));
    assert_eq!(high.len(), 22_050);
    assert!(peak(&high) < 0.01, "alias at {}", peak(&high));
    let low = run(&tone(1000.0));
    assert_eq!(low.len(), 22_050);
    assert!((peak(&low) - 0.5).abs() < 0.01, "{}", peak(&low));
}

#[test]
fn pipeline_applies_gain_fades_and_channels() {
    // 1 s of a constant at 8 kHz mono, half gain, 100 ms fades, to stereo.
    let mut p = Pipeline::new(8000, 1, 8000, 2, 0.5, Duration::from_millis(100));
    let mut out = Vec::new();
    for block in vec![0.5f32; 8000].chunks(1152) {
        p.push(block, &mut out);
    }
    p.finish(&mut out);
    assert_eq!(out.len(), 16_000);
    let left: Vec<f32> = out.chunks(2).map(|f| f[0]).collect();
    assert!(out.chunks(2).all(|f| f[0] == f[1]));
    assert!(left[0] < 0.01 && left[7999] < 0.01);
    assert!((left[4000] - 0.25).abs() < 1e-6);
    assert!((left[800] - 0.25).abs() < 1e-6);
    assert!(left[400] > 0.05 && left[400] < 0.2);
}

#[test]
fn channel_mapping() {
    let mut out = Vec::new();
    map_channels(&[0.2, 0.4], 2, 1, &mut out);
    assert!((out[0] - 0.3).abs() < 1e-6);
    out.clear();
    map_channels(&[0.1, 0.2, 0.3], 3, 2, &mut out);
    assert_eq!(out, [0.1, 0.2]);
}
