#!/usr/bin/env bash
# Tạo lại toàn bộ âm thanh mẫu trong audio/ (nhạc hiệu + các bản tin đọc bằng giọng máy).
# Regenerates every sample file under audio/ from the text embedded below.
#
# Cần / needs: espeak-ng, sox, lame
#   sudo apt-get install -y espeak-ng sox lame
#
# Chạy từ thư mục gốc của kho mã / run from the repository root:
#   deploy/make-samples.sh
#
# Chạy lại bao nhiêu lần cũng được: kết quả giống hệt nhau (cùng phiên bản công cụ).
# Idempotent: same tool versions give byte-identical files.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=audio

for tool in espeak-ng sox lame; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "Thiếu chương trình '$tool'. Cài bằng: sudo apt-get install -y espeak-ng sox lame" >&2
        echo "Missing '$tool'. Install with: sudo apt-get install -y espeak-ng sox lame" >&2
        exit 1
    fi
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# sox: -R = repeatable (fixed seeds), -D = no dither, -V1 = errors only.
SOX=(sox -R -D -V1)

# Speech settings: northern Vietnamese voice, moderate speed.
VOICE=vi
SPEED=150      # words (syllables) per minute
PITCH=45
PEAK_DB=-3     # peak level of every file, dBFS

# ---------------------------------------------------------------------------
# Nhạc hiệu / station jingle: C-major arpeggio (C5 E5 G5 C6) with bell-like
# decays, ending on the full chord. Mono, 44100 Hz, about 5 s.
# ---------------------------------------------------------------------------
make_jingle() {
    local dest=$1 i=0 freq octave len fadeout start
    local -a parts=()
    # one note per line: frequency (Hz), its octave (Hz), length (s),
    # fade-out length (s) = length - 0.015, start time (s)
    local notes=(
        "523.25  1046.50 1.6 1.585 0.00"
        "659.25  1318.51 1.6 1.585 0.40"
        "783.99  1567.98 1.6 1.585 0.80"
        "1046.50 2093.00 3.6 3.585 1.20"
        "523.25  1046.50 3.6 3.585 1.20"
        "659.25  1318.51 3.6 3.585 1.20"
        "783.99  1567.98 3.6 3.585 1.20"
    )
    for n in "${notes[@]}"; do
        read -r freq octave len fadeout start <<<"$n"
        # Sine plus a quieter octave for a bell-like tone; 15 ms fade-in and a
        # logarithmic fade-out over the rest of the note, so nothing clicks.
        "${SOX[@]}" -n -r 44100 -c 1 -b 16 "$TMP/f.wav" synth "$len" sine "$freq"
        "${SOX[@]}" -n -r 44100 -c 1 -b 16 "$TMP/o.wav" synth "$len" sine "$octave"
        "${SOX[@]}" -m -v 0.4 "$TMP/f.wav" -v 0.12 "$TMP/o.wav" "$TMP/n$i.wav" \
            fade l 0.015 "$len" "$fadeout" pad "$start" 0
        parts+=("$TMP/n$i.wav")
        i=$((i + 1))
    done
    # Mix, add 0.3 s of silence at both ends, set the peak, fade the tail out.
    "${SOX[@]}" -m "${parts[@]}" -r 44100 -c 1 -b 16 "$TMP/jingle.wav" \
        pad 0.3 0.3 gain -n "$PEAK_DB" fade q 0 -0 0.6
    lame --quiet --noreplaygain -m m -b 48 --resample 44.1 "$TMP/jingle.wav" "$TMP/out.mp3"
    mkdir -p "$(dirname "$dest")"
    mv -f "$TMP/out.mp3" "$dest"
}

# ---------------------------------------------------------------------------
# Bản tin đọc bằng giọng máy / spoken announcement.
# Numbers are written out in words so that espeak-ng reads them correctly.
# ---------------------------------------------------------------------------
speak() {
    local dest=$1 text=$2
    espeak-ng -v "$VOICE" -s "$SPEED" -p "$PITCH" -a 60 -w "$TMP/raw.wav" "$text"
    # (-a 60: espeak-ng at full amplitude peaks at 0 dBFS and clips the filter.)
    # Trim leading/trailing silence, keep 0.3 s at both ends, high-pass to
    # remove rumble, set the peak level.
    "${SOX[@]}" "$TMP/raw.wav" -r 22050 -c 1 -b 16 "$TMP/speech.wav" \
        silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse \
        gain -3 highpass 80 pad 0.3 0.3 gain -n "$PEAK_DB"
    lame --quiet --noreplaygain -m m -b 32 --resample 22.05 "$TMP/speech.wav" "$TMP/out.mp3"
    mkdir -p "$(dirname "$dest")"
    mv -f "$TMP/out.mp3" "$dest"
}

make_jingle "$OUT/nhac-hieu.mp3"

# --- Trước Đại hội / before the Congress (05/08/2025 - 18/01/2026) ---------
speak "$OUT/truoc-dai-hoi/ban-tin-1.mp3" \
"Kính thưa bà con. Ngày ba tháng hai năm một nghìn chín trăm ba mươi, Đảng Cộng sản Việt Nam ra đời. Chín mươi lăm năm qua, dưới sự lãnh đạo của Đảng, nhân dân ta đã giành độc lập, xây dựng và bảo vệ Tổ quốc."

speak "$OUT/truoc-dai-hoi/ban-tin-2.mp3" \
"Kính thưa bà con. Cả nước đang tích cực chuẩn bị Đại hội đại biểu toàn quốc lần thứ mười bốn của Đảng. Đề nghị bà con thường xuyên theo dõi tin tức trên loa truyền thanh xã."

# --- Trong thời gian Đại hội / during the Congress (19-23/01/2026) ---------
speak "$OUT/dai-hoi/ban-tin-1.mp3" \
"Kính thưa bà con. Từ ngày mười chín đến ngày hai mươi ba tháng một năm hai nghìn không trăm hai mươi sáu, Đại hội đại biểu toàn quốc lần thứ mười bốn của Đảng diễn ra tại Thủ đô Hà Nội."

speak "$OUT/dai-hoi/ban-tin-2.mp3" \
"Kính thưa bà con. Loa truyền thanh xã cập nhật tin tức Đại hội vào buổi sáng và buổi chiều. Kính mời bà con đón xem truyền hình trực tiếp phiên khai mạc và bế mạc Đại hội."

# --- Sau Đại hội / after the Congress (from 24/01/2026) --------------------
speak "$OUT/sau-dai-hoi/ban-tin-1.mp3" \
"Kính thưa bà con. Đại hội đại biểu toàn quốc lần thứ mười bốn của Đảng đã thành công tốt đẹp, thông qua Nghị quyết và bầu Ban Chấp hành Trung ương Đảng khóa mười bốn."

speak "$OUT/sau-dai-hoi/ban-tin-2.mp3" \
"Kính thưa bà con. Các chi bộ và các thôn sẽ tổ chức học tập, quán triệt Nghị quyết Đại hội. Đề nghị cán bộ, đảng viên và nhân dân tích cực tham gia, đưa Nghị quyết vào cuộc sống."

# --- Thông báo chung / general notice -------------------------------------
speak "$OUT/thong-bao-chung.mp3" \
"Ủy ban nhân dân xã thông báo. Loa truyền thanh xã phát hằng ngày lúc năm giờ ba mươi sáng và mười bảy giờ chiều. Sáng Chủ nhật hằng tuần là ngày vệ sinh môi trường, đề nghị các hộ gia đình dọn dẹp đường làng, ngõ xóm."

# --- Kết thúc / closing ----------------------------------------------------
speak "$OUT/ket-thuc.mp3" \
"Buổi phát thanh đến đây là kết thúc. Xin cảm ơn bà con đã chú ý lắng nghe."

echo "Đã tạo xong âm thanh mẫu trong $OUT/ / sample audio written to $OUT/:"
find "$OUT" -name '*.mp3' | LC_ALL=C sort | while read -r f; do
    printf '  %-32s %6s byte\n' "$f" "$(wc -c <"$f")"
done
