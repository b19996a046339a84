//! `loa devices`: the sound outputs ALSA offers, with the names to write in
//! `[audio] device`. Works without a config (the installer may not have one).

use std::path::Path;

use super::context;
use super::exit;
use crate::lang::Lang;
use crate::player::alsa::{has_sound_card, list_devices};
use crate::tr;

/// `loa devices`: the sound outputs ALSA offers, and which one the config names; the exit code.
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
                "Không có thiết bị âm thanh nào. Hãy cắm card âm thanh USB hoặc HAT vào máy, rồi chạy lại `loa devices`.",
                "No audio device. Plug in the USB or HAT sound card, then run `loa devices` again."
            )
        );
        return exit::PROBLEMS;
    }
    println!(
        "{}",
        tr!(
            lang,
            "Các thiết bị âm thanh có trên máy (chép tên thiết bị muốn dùng vào mục [audio] device trong tệp cấu hình):",
            "ALSA sound devices (write the name as [audio] device in the config):"
        )
    );
    for d in &devices {
        let mark = if configured.as_deref() == Some(d.name.as_str()) {
            lang.pick("  <- đang dùng theo cấu hình", "  <- configured")
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
                "Lưu ý: máy không có card âm thanh thật; các thiết bị ở trên chỉ là thiết bị ảo, không phát ra tiếng.",
                "Note: this machine has no real sound card (no audio device); only the virtual devices above."
            )
        );
    }
    println!();
    println!(
        "{}",
        tr!(
            lang,
            "Gợi ý: card âm thanh USB thường có tên \"plughw:CARD=Device,DEV=0\"; \"default\" là thiết bị mặc định của hệ thống. Nên dùng tên bắt đầu bằng \"plughw:\" thay vì \"hw:\", để máy tự chuyển đổi tần số lấy mẫu cho hợp với card.",
            "Hint: a USB card is usually \"plughw:CARD=Device,DEV=0\"; \"default\" is the system default. Prefer \"plughw:\" to \"hw:\" so ALSA converts the sample rate."
        )
    );
    exit::OK
}
