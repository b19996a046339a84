//! scratch
#[cfg(test)]
mod tests {
    use crate::media::probe::Decoder;
    #[test]
    #[ignore]
    fn timing() {
        let f = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/bench-data/music-600s-128k-44k1-stereo.mp3");
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let mut d = Decoder::open(&f).unwrap();
            let mut v = Vec::new();
            while d.next_into(&mut v).unwrap() {
                v.clear();
            }
            eprintln!("decode {:?}", t.elapsed());
        }
    }
}
