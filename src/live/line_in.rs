//! The line-in: captured from an ALSA capture device (cpal's input stream)
//! at its own rate, turned into the card's rate and channels, and handed
//! to the relay as programme. Silence longer than 30 s is a warning ("no
//! signal on the line-in"), shown in `loa status`; the slot goes on.

use std::time::Duration;

use cpal::traits::{DeviceTrait, StreamTrait};

use super::relay::Pump;
use crate::player::pipeline::{Resampler, map_channels};
use crate::tr;

/// Silence this long is reported.
const NO_SIGNAL: Duration = Duration::from_secs(30);
/// Below this level a sample is silence (-70 dBFS).
const SILENT_LEVEL: f32 = 3.2e-4;

/// Captures `device` into the pump until the relay is gone.
pub(super) fn capture(device: &str, mut pump: Pump) {
    let (rate, out_ch, lang) = pump.out();
    let dev = match crate::player::alsa::find_input_device(device) {
        Ok(d) => d,
        Err(e) => {
            let why = e.message(lang);
            pump.state().fault(tr!(
                lang,
                "không mở được đường vào (line-in) \"{device}\": {why}",
                "cannot open the line-in \"{device}\": {why}"
            ));
            return;
        }
    };
    let config = match dev.default_input_config() {
        Ok(c) => c,
        Err(e) => {
            pump.state().fault(tr!(
                lang,
                "đường vào (line-in) \"{device}\" không cho biết định dạng thu: {e}",
                "the line-in \"{device}\" gives no capture format: {e}"
            ));
            return;
        }
    };
    let in_rate = config.sample_rate();
    let in_ch = usize::from(config.channels()).max(1);
    let (mut tx, mut rx) = rtrb::RingBuffer::<f32>::new(in_rate as usize * in_ch * 2);
    let on_error = |e: cpal::Error| {
        tracing::warn!(error = %e, "{}", crate::lang::log("lỗi thu đường vào", "line-in capture error"));
    };
    let stream = dev.build_input_stream::<f32, _, _>(
        config.config(),
        move |data: &[f32], _: &cpal::InputCallbackInfo| {
            // Never waits: what does not fit is dropped.
            let n = tx.slots().min(data.len());
            if let Ok(mut chunk) = tx.write_chunk(n) {
                let (a, b) = chunk.as_mut_slices();
                a.copy_from_slice(&data[..a.len()]);
                b.copy_from_slice(&data[a.len()..n]);
                chunk.commit_all();
            }
        },
        on_error,
        None,
    );
    let stream = match stream.and_then(|s| s.play().map(|()| s)) {
        Ok(s) => s,
        Err(e) => {
            pump.state().fault(tr!(
                lang,
                "không thu được từ đường vào (line-in) \"{device}\": {e}",
                "cannot capture from the line-in \"{device}\": {e}"
            ));
            return;
        }
    };
    tracing::info!(
        device,
        rate = in_rate,
        channels = in_ch,
        "{}",
        crate::lang::log("đang thu từ đường vào", "capturing the line-in")
    );
    let mut resampler = Resampler::new(in_rate, rate, out_ch);
    let (mut raw, mut mapped, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let mut silent: u64 = 0;
    let mut said = false;
    while !pump.stopped() {
        let n = rx.slots() / in_ch * in_ch;
        if n == 0 {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        raw.clear();
        if let Ok(chunk) = rx.read_chunk(n) {
            let (a, b) = chunk.as_slices();
            raw.extend_from_slice(a);
            raw.extend_from_slice(b);
            chunk.commit_all();
        }
        mapped.clear();
        map_channels(&raw, in_ch, out_ch, &mut mapped);
        out.clear();
        resampler.process(&mapped, &mut out);
        let frames = (n / in_ch) as u64;
        if raw.iter().all(|s| s.abs() < SILENT_LEVEL) {
            silent += frames;
        } else {
            silent = 0;
            said = false;
            pump.state().update(|s| s.source = "line-in".into());
        }
        if !said && silent as f64 / f64::from(in_rate) > NO_SIGNAL.as_secs_f64() {
            said = true;
            tracing::warn!(
                device,
                "{}",
                crate::lang::log("không có tín hiệu ở đường vào", "no signal on the line-in")
            );
            pump.state().fault(tr!(
                lang,
                "không có tín hiệu ở đường vào (line-in) \"{device}\" quá 30 giây",
                "no signal on the line-in \"{device}\" for more than 30 s"
            ));
            pump.state().update(|s| s.source = "no signal".into());
        }
        let received = frames as f64 / f64::from(in_rate);
        pump.state().update(|s| s.received_s += received);
        if !pump.push_programme(&mut out) {
            break;
        }
    }
    drop(stream);
}
