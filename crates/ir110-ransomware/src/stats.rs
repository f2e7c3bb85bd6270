//! Block statistics: is a block of bytes indistinguishable from ciphertext?
//!
//! Used only where they mean something (see the crate docs): on formats that should be
//! low-entropy, and on content no validator recognises. Chi-square of the byte histogram is the
//! main test (published comparisons find it far better than Shannon entropy at separating
//! encrypted from compressed data); small blocks use the number of distinct byte values, whose
//! distribution for random data is known exactly.

/// Chi-square statistic of the byte histogram against the uniform distribution (255 d.o.f.).
pub fn chi_square(block: &[u8]) -> f64 {
    if block.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in block {
        counts[usize::from(b)] += 1;
    }
    let expected = block.len() as f64 / 256.0;
    counts
        .iter()
        .map(|&c| {
            let d = f64::from(c) - expected;
            d * d / expected
        })
        .sum()
}

/// Shannon entropy in bits per byte.
pub fn entropy(block: &[u8]) -> f64 {
    if block.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in block {
        counts[usize::from(b)] += 1;
    }
    let n = block.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Serial correlation coefficient of consecutive bytes (≈0 for random data).
pub fn serial_correlation(block: &[u8]) -> f64 {
    if block.len() < 2 {
        return 0.0;
    }
    let n = block.len() as f64;
    let (mut sx, mut sxx, mut sxy) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..block.len() {
        let x = f64::from(block[i]);
        let y = f64::from(block[(i + 1) % block.len()]);
        sx += x;
        sxx += x * x;
        sxy += x * y;
    }
    let denom = n * sxx - sx * sx;
    if denom == 0.0 {
        return 1.0;
    }
    (n * sxy - sx * sx) / denom
}

/// Whether `block` looks like ciphertext (or other uniformly random bytes).
///
/// Blocks of 1 KiB and more: chi-square below 255 + 4.5σ (σ = √510 ≈ 22.6), so ciphertext fails
/// the test about once in 10⁵ blocks, and |serial correlation| small. Smaller blocks: the number
/// of distinct byte values must be close to what random data gives (256·(1−e^(−n/256))).
/// Blocks under 64 bytes are never judged.
pub fn is_random(block: &[u8]) -> bool {
    let n = block.len();
    if n < 64 {
        return false;
    }
    if n >= 1024 {
        return chi_square(block) < 357.0 && serial_correlation(block).abs() < 0.1;
    }
    let mut seen = [false; 256];
    for &b in block {
        seen[usize::from(b)] = true;
    }
    let distinct = seen.iter().filter(|&&s| s).count() as f64;
    let expected = 256.0 * (1.0 - (-(n as f64) / 256.0).exp());
    // The variance of the distinct count is small (≈ 7 for 512 bytes); allow about 4σ.
    distinct >= expected - 4.0 * expected.sqrt().max(3.0) && chi_square(block) < 255.0 + 7.0 * 22.6
}

/// The block size the randomness map uses for a file of `size` bytes.
pub fn block_size(size: u64) -> usize {
    if size < 64 * 1024 { 512 } else { 4096 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (s >> 33) as u8
            })
            .collect()
    }

    #[test]
    fn random_blocks_are_random() {
        let mut misses = 0;
        for seed in 0..200 {
            for n in [256, 512, 4096] {
                if !is_random(&pseudo_random(n, seed)) {
                    misses += 1;
                }
            }
        }
        assert_eq!(misses, 0);
    }

    #[test]
    fn text_and_zeros_are_not() {
        assert!(!is_random(&[0u8; 4096]));
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(100);
        assert!(!is_random(text.as_bytes()));
        assert!(!is_random(&text.as_bytes()[..512]));
        assert!((entropy(&pseudo_random(4096, 1)) - 7.95).abs() < 0.05);
        assert!(entropy(&[7u8; 100]) < 0.001);
    }
}
