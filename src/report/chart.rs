//! The bar chart of minutes aired per day, drawn to PNG (plotters) for the
//! Word document.
//!
//! Its text (the axes' labels, the legend) needs a TrueType font: the first
//! of [`FONT_FILES`] that exists is read once, at the first chart. With none
//! of them, the chart is drawn without any text (bars and axes only) rather
//! than not at all: the document's caption still says what it shows.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text::minutes;
use super::{Report, ReportError};
use crate::lang::Lang;

/// The chart's size in pixels: 16 cm wide on the page is 254 dpi.
pub const SIZE: (u32, u32) = (1600, 700);

/// Where the chart's font is looked for, in this order (Debian's and
/// Raspberry Pi OS's packages fonts-dejavu-core, fonts-liberation,
/// fonts-noto-core).
pub const FONT_FILES: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
];

/// The name the font is registered under with plotters.
const FAMILY: &str = "loa-report";
/// The bars of minutes aired: dark, so that they print in black and white.
const AIRED: RGBColor = RGBColor(31, 78, 145);
/// The wider bars of minutes planned, behind: light.
const PLANNED: RGBColor = RGBColor(190, 206, 228);
/// The horizontal grid lines.
const GRID: RGBColor = RGBColor(215, 215, 215);
/// The labels' height in pixels (about 10 pt printed 16 cm wide).
const LABEL_PX: u32 = 36;
/// The axes' titles and the "nothing to show" message.
const TITLE_PX: u32 = 38;

/// A day's width on the x axis.
const DAY: i32 = 100;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Registers the chart's font, once: whether there is one.
fn font() -> bool {
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(|| {
        FONT_FILES.iter().any(|path| match std::fs::read(path) {
            Ok(bytes) => {
                // plotters keeps fonts for the process's life.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                register_font(FAMILY, FontStyle::Normal, bytes).is_ok()
            }
            Err(_) => false,
        })
    })
}

fn chart_err(e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart(e.to_string())
}

/// The chart as PNG bytes ([`SIZE`]): minutes aired per day shown, with
/// the minutes the schedule planned as a wider, lighter bar behind each
/// day's. Labels read "DD/MM", thinned out so that they do not overlap.
/// No days: a chart saying so. Without a font (see the module's notes):
/// the same chart without text.
pub fn minutes_per_day_png(r: &Report) -> Result<Vec<u8>, ReportError> {
    draw(r, font())
}

/// The chart, with text or not.
fn draw(r: &Report, text: bool) -> Result<Vec<u8>, ReportError> {
    let (w, h) = SIZE;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        if r.days.is_empty() {
            if text {
                let msg = r
                    .lang
                    .pick("Không có ngày nào để thể hiện", "There are no days to show");
                let style = TextStyle::from((FAMILY, TITLE_PX).into_font())
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let centre = (w as i32 / 2, h as i32 / 2);
                root.draw_text(msg, &style, centre).map_err(chart_err)?;
            }
        } else {
            bars(&root, r, text)?;
        }
        root.present().map_err(chart_err)?;
    }
    encode(&rgb, w, h)
}

/// How many days apart the x labels are: the smallest of a few natural
/// steps (every day, every other day, ..., weekly) that leaves each label
/// room for "DD/MM" and a gap, in a plot `width` pixels wide.
fn label_step(days: usize, width: u32) -> usize {
    // "DD/MM" is 2.9 em wide in DejaVu Sans; half an em between labels.
    let label = LABEL_PX as f64 * 3.4;
    let day = width as f64 / days.max(1) as f64;
    let need = (label / day).ceil().max(1.0) as usize;
    [1, 2, 3, 5, 7, 14, 28]
        .into_iter()
        .find(|s| *s >= need)
        .unwrap_or(need)
}

/// A number of minutes for the y axis: "2", "2,5" / "2.5".
fn axis_number(v: f64, lang: Lang) -> String {
    let s = if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    match lang {
        Lang::Vi => s.replace('.', ","),
        Lang::En => s,
    }
}

/// The bars, the axes and (with `text`) the labels and the legend.
fn bars(root: &Area<'_>, r: &Report, text: bool) -> Result<(), ReportError> {
    let lang = r.lang;
    let n = r.days.len();
    let aired: Vec<f64> = r.days.iter().map(|d| minutes(d.figures.aired_ms)).collect();
    let planned: Vec<f64> = r
        .days
        .iter()
        .map(|d| minutes(d.figures.planned_ms))
        .collect();
    let top = aired.iter().chain(&planned).copied().fold(0.0, f64::max);
    // Headroom above the tallest bar for the legend.
    let y_max = if top > 0.0 { top * 1.3 } else { 1.0 };
    let (margin, y_area, x_area) = if text { (24, 130, 110) } else { (24, 8, 8) };
    let step = label_step(n, SIZE.0 - 2 * margin - y_area);
    // x: a hundred units a day (integer coordinates format their labels
    // with a formatter of ours; plotters' floating ones do not).
    let x = |i: usize, frac: i32| (i as i32).saturating_mul(DAY).saturating_add(frac);
    let ticks: Vec<i32> = (0..n).step_by(step).map(|i| x(i, DAY / 2)).collect();
    let labels: Vec<String> = r
        .days
        .iter()
        .map(|d| format!("{:02}/{:02}", d.date.day(), d.date.month()))
        .collect();

    let mut chart = ChartBuilder::on(root)
        .margin(margin)
        .margin_top(margin + 10)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d((0..x(n, 0)).with_key_points(ticks), 0f64..y_max)
        .map_err(chart_err)?;
    if text {
        let x_fmt = |x: &i32| {
            let day = usize::try_from(x / DAY).unwrap_or(usize::MAX);
            labels.get(day).cloned().unwrap_or_default()
        };
        let y_fmt = |y: &f64| axis_number(*y, lang);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(BLACK.stroke_width(2))
            .y_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style((FAMILY, LABEL_PX))
            .axis_desc_style((FAMILY, TITLE_PX))
            .y_desc(lang.pick("Phút", "Minutes"))
            .x_desc(lang.pick("Ngày", "Day"))
            .draw()
            .map_err(chart_err)?;
    } else {
        let axes = vec![(0, y_max), (0, 0.0), (x(n, 0), 0.0)];
        chart
            .draw_series(std::iter::once(PathElement::new(
                axes,
                BLACK.stroke_width(2),
            )))
            .map_err(chart_err)?;
    }

    let bar = |i: usize, v: f64, inset: i32, color: RGBColor| {
        Rectangle::new([(x(i, inset), 0.0), (x(i, DAY - inset), v)], color.filled())
    };
    let swatch = |color: RGBColor| {
        move |(x, y): (i32, i32)| Rectangle::new([(x, y - 12), (x + 36, y + 12)], color.filled())
    };
    chart
        .draw_series(
            planned
                .iter()
                .enumerate()
                .map(|(i, v)| bar(i, *v, 10, PLANNED)),
        )
        .map_err(chart_err)?
        .label(lang.pick("Theo lịch", "Scheduled"))
        .legend(swatch(PLANNED));
    chart
        .draw_series(aired.iter().enumerate().map(|(i, v)| bar(i, *v, 27, AIRED)))
        .map_err(chart_err)?
        .label(lang.pick("Đã phát", "Aired"))
        .legend(swatch(AIRED));
    if text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FAMILY, LABEL_PX))
            .legend_area_size(50)
            .margin(16)
            .background_style(WHITE)
            .border_style(BLACK)
            .draw()
            .map_err(chart_err)?;
    }
    Ok(())
}

/// 8-bit RGB pixels as PNG.
fn encode(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ReportError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(chart_err)?;
    writer.write_image_data(rgb).map_err(chart_err)?;
    writer.finish().map_err(chart_err)?;
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{build, sample};
    use super::*;

    /// A PNG's width and height.
    pub(crate) fn png_size(bytes: &[u8]) -> (u32, u32) {
        let reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("a PNG");
        (reader.info().width, reader.info().height)
    }

    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

    #[test]
    fn the_sample_month_as_a_png() {
        let rows = sample::rows();
        let r = build(&sample::inputs(&rows));
        let png = minutes_per_day_png(&r).unwrap();
        assert!(png.starts_with(&SIGNATURE));
        assert_eq!(png_size(&png), SIZE);
        if let Ok(dir) = std::env::var("LOA_REPORT_SAMPLE_DIR") {
            std::fs::write(format!("{dir}/report-chart.png"), &png).unwrap();
        }
    }

    #[test]
    fn without_a_font_the_bars_are_still_drawn() {
        let rows = sample::rows();
        let r = build(&sample::inputs(&rows));
        let png = draw(&r, false).unwrap();
        assert_eq!(png_size(&png), SIZE);
    }

    #[test]
    fn no_days_still_makes_a_png() {
        let mut inp = sample::inputs(&[]);
        inp.now = sample::at(1, "00:00:00", 0);
        inp.from = jiff::civil::date(2026, 12, 1);
        inp.to = jiff::civil::date(2026, 12, 31);
        let r = build(&inp);
        assert!(r.days.is_empty());
        for text in [true, false] {
            let png = draw(&r, text && font()).unwrap();
            assert!(png.starts_with(&SIGNATURE));
            assert_eq!(png_size(&png), SIZE);
        }
    }

    #[test]
    fn labels_are_thinned_out_to_fit() {
        assert_eq!(label_step(7, 1400), 1);
        assert_eq!(label_step(31, 1400), 3);
        assert_eq!(label_step(15, 1400), 2);
        assert_eq!(label_step(10, 1400), 1);
        assert_eq!(label_step(365, 1400), 32);
        assert_eq!(label_step(3650, 1400), 320);
        assert_eq!(axis_number(2.0, Lang::Vi), "2");
        assert_eq!(axis_number(2.5, Lang::Vi), "2,5");
        assert_eq!(axis_number(2.5, Lang::En), "2.5");
    }
}
