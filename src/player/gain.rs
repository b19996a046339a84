//! The gain an item plays at: loudness normalisation to the target, capped
//! so a quiet file is never boosted into clipping, plus the volume settings.
//! Pure arithmetic.

/// The most normalisation may raise a file.
pub const MAX_BOOST_DB: f64 = 12.0;
/// The true peak a file may reach after gain.
pub const PEAK_CEILING_DB: f64 = -1.0;

/// Total gain in dB for a file of `loudness` LUFS and `true_peak` dBFS
/// (None when unknown or silent), given the settings.
pub fn gain_db(
    loudness: Option<f64>,
    true_peak: Option<f64>,
    normalize: bool,
    target_lufs: f64,
    volume_db: f64,
    item_volume_db: f64,
) -> f64 {
    let norm = match (normalize, loudness) {
        (true, Some(l)) => (target_lufs - l).min(MAX_BOOST_DB),
        _ => 0.0,
    };
    let total = norm + volume_db + item_volume_db;
    match (normalize, true_peak) {
        // Never push the true peak over the ceiling.
        (true, Some(p)) => total.min(PEAK_CEILING_DB - p),
        _ => total,
    }
}

/// A gain in dB as a linear factor for the samples.
pub fn db_to_linear(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_the_target() {
        assert_eq!(
            gain_db(Some(-23.0), Some(-10.0), true, -16.0, 0.0, 0.0),
            7.0
        );
        assert_eq!(
            gain_db(Some(-10.0), Some(-0.5), true, -16.0, 0.0, 0.0),
            -6.0
        );
    }

    #[test]
    fn boost_is_capped_and_peaks_stay_under_the_ceiling() {
        // A very quiet file: +24 dB wanted, capped at +12.
        assert_eq!(
            gain_db(Some(-40.0), Some(-30.0), true, -16.0, 0.0, 0.0),
            12.0
        );
        // Quiet but peaky: the peak at -4 dBFS allows only +3 dB.
        assert_eq!(gain_db(Some(-26.0), Some(-4.0), true, -16.0, 0.0, 0.0), 3.0);
        // Volume settings cannot push it over either.
        assert_eq!(gain_db(Some(-16.0), Some(-3.0), true, -16.0, 6.0, 0.0), 2.0);
    }

    #[test]
    fn volume_settings_add_up() {
        assert_eq!(
            gain_db(Some(-16.0), Some(-10.0), true, -16.0, -3.0, -2.0),
            -5.0
        );
        assert_eq!(
            gain_db(Some(-30.0), Some(-1.0), false, -16.0, -3.0, 1.0),
            -2.0
        );
    }

    #[test]
    fn silence_is_left_alone() {
        assert_eq!(gain_db(None, None, true, -16.0, 0.0, 0.0), 0.0);
        assert!((db_to_linear(-6.0) - 0.501).abs() < 0.001);
    }
}
