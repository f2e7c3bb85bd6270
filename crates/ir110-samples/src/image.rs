//! Raster images: PNG (zlib + chunk CRCs, written here) and baseline JPEG (`jpeg-encoder`).
//! The pictures are deterministic "office" content: chart-like flat shapes for PNG screenshots,
//! smooth gradients with grain for JPEG photos.

use std::io::Write;

use flate2::{Compression, write::ZlibEncoder};

use crate::Rng;

/// An RGB picture `width`×`height` built from the seed.
pub fn picture(rng: &mut Rng, width: u32, height: u32, photo: bool) -> Vec<u8> {
    let mut px = vec![0u8; (width * height * 3) as usize];
    let base: [u8; 3] = [
        rng.below(200) as u8 + 30,
        rng.below(200) as u8 + 30,
        rng.below(200) as u8 + 30,
    ];
    let bars: Vec<(u32, u32, [u8; 3])> = (0..rng.range(3, 9))
        .map(|_| {
            let h = rng.range(10, u64::from(height) * 9 / 10) as u32;
            (
                h,
                rng.range(0, u64::from(width)) as u32,
                [
                    rng.below(256) as u8,
                    rng.below(256) as u8,
                    rng.below(256) as u8,
                ],
            )
        })
        .collect();
    let mut grain = Rng::new(rng.next_u64());
    for y in 0..height {
        for x in 0..width {
            let i = ((y * width + x) * 3) as usize;
            let mut c = if photo {
                [
                    base[0].wrapping_add((x * 96 / width.max(1)) as u8),
                    base[1].wrapping_add((y * 96 / height.max(1)) as u8),
                    base[2].wrapping_add(((x + y) * 48 / (width + height).max(1)) as u8),
                ]
            } else {
                [250, 250, 250]
            };
            for (k, (h, x0, colour)) in bars.iter().enumerate() {
                let bw = width / (bars.len() as u32 * 2 + 1);
                let bx = if photo { *x0 } else { bw * (2 * k as u32 + 1) };
                if x >= bx && x < bx + bw.max(4) && y >= height - h {
                    c = *colour;
                }
            }
            if photo {
                let g = (grain.next_u64() % 17) as u8;
                c = c.map(|v| v.saturating_add(g).saturating_sub(8));
            }
            px[i..i + 3].copy_from_slice(&c);
        }
    }
    px
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
}

/// Encodes RGB pixels as an 8-bit truecolour PNG.
pub fn png(rgb: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut raw = Vec::with_capacity(rgb.len() + height as usize);
    for row in rgb.chunks((width * 3) as usize) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::new(6));
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    // Large images are split into 64 KiB IDAT chunks, as encoders usually do.
    for part in idat.chunks(65_536) {
        chunk(&mut out, b"IDAT", part);
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Encodes RGB pixels as a baseline JPEG of the given quality.
pub fn jpeg(rgb: &[u8], width: u32, height: u32, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    let (w, h) = (
        width.min(u32::from(u16::MAX)) as u16,
        height.min(u32::from(u16::MAX)) as u16,
    );
    if encoder
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .is_err()
    {
        return Vec::new();
    }
    out
}
