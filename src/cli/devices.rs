//! `loa devices`: the sound outputs ALSA offers, with the names to write in
//! [audio] device. Works without a config (the installer may not have one).

use std::path::Path;

use super::context;
use super::exit;
use crate::lang::Lang;
use crate::player::alsa::{has_sound_card, list_devices};
use crate::tr;

pub fn run(config: Option<&Path>) -> i32 {
    let cfg = context::load_config(config).ok();
    let lang = cfg.as_ref().map(|c| c.lang).unwrap_or(Lang::Vi);
    let configured = cfg.as_ref().map(|c| c.audio.device.clone());
    let devices = list_devices();
    let card = has_sound_card();
    if devices.is_empty() {
        println!(
            "{}",
            tr!(
                lang,
                "Không có thiết bị âm thanh nào (no audio device). Hãy cắm card âm thanh USB hoặc HAT, rồi chạy lại `loa devices`.",
                "No audio device. Plug in the USB or HAT sound card, then run `loa devices` again."
            )
        );
        return exit::PROBLEMS;
    }
    println!(
        "{}",
        tr!(
            lang,
            "Các thiết bị âm thanh ALSA (ghi tên vào [audio] device trong tệp cấu hình):",
            "ALSA sound devices (write the name as [audio] device in the config):"
        )
    );
    for d in &devices {
        let mark = if configured.as_deref() == Some(d.name.as_str()) {
            lang.pick("  <- đang dùng", "  <- configured")
        } else {
            ""
        };
        if d.description.is_empty() {
            println!("  {}{mark}", d.name);
        } else {
            println!("  {:<40} {}{mark}", d.name, d.description);
        }
    }
    if !card {
        println!();
        println!(
            "{}",
            tr!(
                lang,
                "Lưu ý: máy không có card âm thanh thật (no audio device); chỉ có các thiết bị ảo ở trên.",
                "Note: this machine has no real sound card (no audio device); only the virtual devices above."
            )
        );
    }
    println!();
    println!(
        "{}",
        tr!(
            lang,
            "Gợi ý: card USB thường là \"plughw:CARD=Device,DEV=0\"; \"default\" là thiết bị mặc định của hệ thống. Dùng \"plughw:\" thay cho \"hw:\" để ALSA tự đổi tần số mẫu.",
            "Hint: a USB card is usually \"plughw:CARD=Device,DEV=0\"; \"default\" is the system default. Prefer \"plughw:\" to \"hw:\" so ALSA converts the sample rate."
        )
    );
    exit::OK
}
