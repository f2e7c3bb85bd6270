//! Time per judged file, by kind (profiling aid).
use std::time::Instant;
fn main() {
    for kind in ir110_samples::DocKind::ALL {
        let docs: Vec<Vec<u8>> = (0..200)
            .map(|i| ir110_samples::document(kind, i, "資料"))
            .collect();
        let bytes: usize = docs.iter().map(Vec::len).sum();
        let t = Instant::now();
        for d in &docs {
            let _ = ir110_ransomware::judge_bytes(&format!("a.{}", kind.extension()), d.clone());
        }
        let e = t.elapsed().as_secs_f64();
        println!(
            "{:<10} {:>8.1} µs/file {:>8.1} MB/s",
            kind.label(),
            e / 200.0 * 1e6,
            bytes as f64 / e / 1e6
        );
    }
}
