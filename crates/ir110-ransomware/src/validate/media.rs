//! Audio and video containers: RIFF (WAV/AVI/WebP chunk chains), Ogg (page CRC-32), MP3
//! (frame chain), ISO base media (box tree and H.264/H.265 sample starts), MPEG program
//! streams (pack and PES chain), FLAC and Matroska (headers).

use super::Check;
use crate::content::Content;
use crate::format::{is_mp3_frame, mp3_frame_len, read_be16, read_be32, read_le32};

fn fourcc_ok(b: &[u8]) -> bool {
    b.len() == 4 && b.iter().all(|&x| (0x20..0x7f).contains(&x) || x == 0xa9)
}

/// RIFF: the chunk chain (and LIST sub-chains) tiles the file.
pub fn riff(c: &Content) -> Check {
    let Some(h) = c.get(0, 12) else {
        return Check::Truncated { offset: 0 };
    };
    if !fourcc_ok(&h[8..12]) {
        return Check::broken(8, "riff-form-type-bad");
    }
    let declared = u64::from(read_le32(h, 4).unwrap_or(0)) + 8;
    let end = declared.min(c.size);
    walk_riff(c, 12, end, 0)
}

fn walk_riff(c: &Content, mut pos: u64, end: u64, depth: u32) -> Check {
    let mut complete = c.is_whole();
    while pos + 8 <= end {
        let Some(h) = c.get(pos, 8) else {
            return Check::Intact { complete: false };
        };
        if !fourcc_ok(&h[..4]) {
            return Check::broken(pos, "riff-chunk-id-bad");
        }
        let len = u64::from(read_le32(h, 4).unwrap_or(0));
        if pos + 8 + len > end + 1 {
            return if pos + 8 + len > c.size {
                Check::Truncated { offset: pos }
            } else {
                Check::broken(pos, "riff-chunk-size-bad")
            };
        }
        if (&h[..4] == b"LIST" || &h[..4] == b"RIFF") && depth < 8 && len >= 4 {
            match walk_riff(c, pos + 12, pos + 8 + len, depth + 1) {
                Check::Intact { complete: false } => complete = false,
                Check::Intact { complete: true } => {}
                other => return other,
            }
        }
        pos += 8 + len + (len & 1);
    }
    Check::Intact { complete }
}

/// CRC-32 as Ogg defines it (polynomial 0x04c11db7, not reflected, initial value 0).
fn ogg_crc(data: &[u8]) -> u32 {
    static TABLE: std::sync::LazyLock<[u32; 256]> = std::sync::LazyLock::new(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut r = (i as u32) << 24;
            for _ in 0..8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04c1_1db7
                } else {
                    r << 1
                };
            }
            *e = r;
        }
        t
    });
    let mut crc = 0u32;
    for &b in data {
        crc = (crc << 8) ^ TABLE[((crc >> 24) as u8 ^ b) as usize];
    }
    crc
}

/// The length of the Ogg page at `pos` if its header and CRC are right.
fn ogg_page(c: &Content, pos: u64) -> Result<Option<u64>, &'static str> {
    let Some(h) = c.get(pos, 27) else {
        return Ok(None);
    };
    if &h[..4] != b"OggS" || h[4] != 0 {
        return Err("ogg-page-header-bad");
    }
    let nseg = usize::from(h[26]);
    let Some(segs) = c.get(pos + 27, nseg) else {
        return Ok(None);
    };
    let body: u64 = segs.iter().map(|&s| u64::from(s)).sum();
    let total = 27 + nseg as u64 + body;
    let Some(page) = c.get(pos, total as usize) else {
        return Ok(None);
    };
    let mut copy = page.to_vec();
    copy[22..26].fill(0);
    if ogg_crc(&copy) != read_le32(page, 22).unwrap_or(0) {
        return Err("ogg-page-crc-mismatch");
    }
    Ok(Some(total))
}

/// Ogg: every page's CRC.
pub fn ogg(c: &Content) -> Check {
    let mut pos = 0u64;
    while pos < c.size {
        match ogg_page(c, pos) {
            Ok(Some(len)) => pos += len,
            Ok(None) => {
                if pos + 27 > c.size {
                    return Check::Truncated { offset: pos };
                }
                return Check::Intact { complete: false };
            }
            Err(what) => return Check::broken(pos, what),
        }
    }
    Check::Intact {
        complete: c.is_whole(),
    }
}

/// MP3: optional ID3v2 tag, then a chain of frames; ID3v1/APE tags may end the file.
pub fn mp3(c: &Content) -> Check {
    let mut pos = 0u64;
    if let Some(h) = c.get(0, 10).filter(|h| h.starts_with(b"ID3")) {
        let size = h[6..10]
            .iter()
            .fold(0u64, |acc, &b| (acc << 7) | u64::from(b & 0x7f));
        pos = 10 + size + if h[5] & 0x10 != 0 { 10 } else { 0 };
        // Some encoders pad after the tag; find the first frame nearby.
        if let Some(w) = c.get_upto(pos, 4096) {
            if let Some(skip) = (0..w.len().saturating_sub(4)).find(|&i| {
                is_mp3_frame(w, i)
                    && mp3_frame_len(w, i)
                        .is_some_and(|l| is_mp3_frame(w, i + l) || i + l + 4 > w.len())
            }) {
                pos += skip as u64;
            }
        }
    }
    let mut frames = 0u64;
    while pos + 4 <= c.size {
        let Some(h) = c.get(pos, 4) else {
            return Check::Intact { complete: false };
        };
        if let Some(len) = mp3_frame_len(h, 0) {
            pos += len as u64;
            frames += 1;
            continue;
        }
        if h.starts_with(b"TAG")
            || h.starts_with(b"APET")
            || h.starts_with(b"LYRI")
            || h == [0, 0, 0, 0] && frames > 0
        {
            return Check::Intact {
                complete: c.is_whole(),
            };
        }
        return Check::broken(pos, "mp3-frame-sync-lost");
    }
    if frames == 0 {
        return Check::broken(pos, "mp3-no-frames");
    }
    if pos > c.size {
        Check::Truncated { offset: pos }
    } else {
        Check::Intact {
            complete: c.is_whole(),
        }
    }
}

/// MP4: the top-level box chain tiles the file; containers are walked; for H.264/H.265
/// tracks the first NAL unit of every chunk must have a plausible length and header.
pub fn mp4(c: &Content) -> Check {
    let mut nal_tracks = Vec::new();
    match walk_boxes(c, 0, c.size, 0, &mut nal_tracks) {
        Check::Intact { complete } => {
            for t in &nal_tracks {
                if let Some(off) = t.first_bad_chunk(c) {
                    return Check::broken(off, "mp4-sample-not-nal");
                }
            }
            Check::Intact { complete }
        }
        other => other,
    }
}

#[derive(Default, Debug)]
struct NalTrack {
    chunk_offsets: Vec<u64>,
    first_sample_size: Vec<u32>,
}

impl NalTrack {
    fn first_bad_chunk(&self, c: &Content) -> Option<u64> {
        for (i, &off) in self.chunk_offsets.iter().enumerate() {
            let Some(b) = c.get(off, 5) else { continue };
            let len = read_be32(b, 0).unwrap_or(0);
            let limit = self.first_sample_size.get(i).copied().unwrap_or(u32::MAX);
            if len == 0 || len > limit || b[4] & 0x80 != 0 {
                return Some(off);
            }
        }
        None
    }
}

const CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"moof", b"traf",
];

fn walk_boxes(
    c: &Content,
    mut pos: u64,
    end: u64,
    depth: u32,
    tracks: &mut Vec<NalTrack>,
) -> Check {
    let mut complete = c.is_whole();
    let mut stbl = StblInfo::default();
    while pos + 8 <= end {
        let Some(h) = c.get(pos, 16.min((end - pos) as usize)) else {
            return Check::Intact { complete: false };
        };
        let mut size = u64::from(read_be32(h, 0).unwrap_or(0));
        let ty = &h[4..8];
        let mut header = 8;
        if size == 1 {
            let (Some(hi), Some(lo)) = (read_be32(h, 8), read_be32(h, 12)) else {
                return Check::Truncated { offset: pos };
            };
            size = (u64::from(hi) << 32) | u64::from(lo);
            header = 16;
        } else if size == 0 {
            size = end - pos;
        }
        if !fourcc_ok(ty) || size < header {
            return Check::broken(pos, "mp4-box-header-bad");
        }
        if pos + size > end {
            return if pos + size > c.size && depth == 0 {
                Check::Truncated { offset: pos }
            } else {
                Check::broken(pos, "mp4-box-size-bad")
            };
        }
        if depth < 10 && CONTAINERS.iter().any(|t| &t[..] == ty) {
            let mut inner = Vec::new();
            match walk_boxes(c, pos + header, pos + size, depth + 1, &mut inner) {
                Check::Intact { complete: false } => complete = false,
                Check::Intact { complete: true } => {}
                other => return other,
            }
            tracks.extend(inner);
        } else if let Some(body) = c.get(pos + header, (size - header).min(16 << 20) as usize) {
            stbl.read(ty, body);
        }
        pos += size;
    }
    if let Some(t) = stbl.into_track() {
        tracks.push(t);
    }
    Check::Intact { complete }
}

#[derive(Default)]
struct StblInfo {
    nal: bool,
    offsets: Vec<u64>,
    sizes: Vec<u32>,
    stsc: Vec<(u32, u32)>,
}

impl StblInfo {
    fn read(&mut self, ty: &[u8], body: &[u8]) {
        match ty {
            b"stsd" => {
                let codec = body.get(12..16).unwrap_or_default();
                self.nal = matches!(codec, b"avc1" | b"avc3" | b"hvc1" | b"hev1");
            }
            b"stco" | b"co64" => {
                let n = read_be32(body, 4).unwrap_or(0).min(1 << 20) as usize;
                let w = if ty == b"co64" { 8 } else { 4 };
                for i in 0..n {
                    let o = 8 + i * w;
                    let v = if w == 8 {
                        read_be32(body, o)
                            .zip(read_be32(body, o + 4))
                            .map(|(h, l)| (u64::from(h) << 32) | u64::from(l))
                    } else {
                        read_be32(body, o).map(u64::from)
                    };
                    match v {
                        Some(v) => self.offsets.push(v),
                        None => break,
                    }
                }
            }
            b"stsz" => {
                let fixed = read_be32(body, 4).unwrap_or(0);
                let n = read_be32(body, 8).unwrap_or(0).min(1 << 22) as usize;
                if fixed != 0 {
                    self.sizes = vec![fixed; n.min(1 << 16)];
                } else {
                    self.sizes = (0..n).map_while(|i| read_be32(body, 12 + 4 * i)).collect();
                }
            }
            b"stsc" => {
                let n = read_be32(body, 4).unwrap_or(0).min(1 << 20) as usize;
                self.stsc = (0..n)
                    .map_while(|i| {
                        Some((read_be32(body, 8 + 12 * i)?, read_be32(body, 12 + 12 * i)?))
                    })
                    .collect();
            }
            _ => {}
        }
    }

    fn into_track(self) -> Option<NalTrack> {
        if !self.nal || self.offsets.is_empty() {
            return None;
        }
        // Size of the first sample of each chunk, from the sample-to-chunk table.
        let mut first = Vec::with_capacity(self.offsets.len());
        let mut sample = 0usize;
        for chunk in 1..=self.offsets.len() as u32 {
            let per = self
                .stsc
                .iter()
                .rev()
                .find(|(f, _)| *f <= chunk)
                .map_or(1, |(_, n)| *n) as usize;
            first.push(self.sizes.get(sample).copied().unwrap_or(u32::MAX));
            sample += per;
        }
        Some(NalTrack {
            chunk_offsets: self.offsets,
            first_sample_size: first,
        })
    }
}

/// MPEG program stream: pack headers and PES packets chained by their lengths.
pub fn mpeg_ps(c: &Content) -> Check {
    let mut pos = 0u64;
    let mut packets = 0u64;
    while pos + 4 <= c.size {
        let Some(h) = c.get(pos, 14) else {
            return if pos + 14 > c.size {
                Check::Intact {
                    complete: c.is_whole(),
                }
            } else {
                Check::Intact { complete: false }
            };
        };
        if h[..3] != [0, 0, 1] {
            // Padding zeros are allowed between packets.
            if h[0] == 0 {
                pos += 1;
                continue;
            }
            return Check::broken(pos, "mpeg-start-code-expected");
        }
        match h[3] {
            0xb9 => {
                return Check::Intact {
                    complete: c.is_whole(),
                };
            }
            0xba => {
                if h[4] & 0xc0 == 0x40 {
                    pos += 14 + u64::from(h[13] & 7);
                } else {
                    pos += 12;
                }
            }
            0xbb..=0xff => {
                let len = u64::from(read_be16(h, 4).unwrap_or(0));
                pos += 6 + len;
            }
            0x00..=0xb8 if packets == 0 => return Check::Intact { complete: false }, // elementary video stream
            _ => return Check::broken(pos, "mpeg-stream-id-bad"),
        }
        packets += 1;
    }
    Check::Intact {
        complete: c.is_whole(),
    }
}

/// FLAC: metadata block chain, then a frame sync code.
pub fn flac(c: &Content) -> Check {
    let mut pos = 4u64;
    loop {
        let Some(h) = c.get(pos, 4) else {
            return Check::Truncated { offset: pos };
        };
        let last = h[0] & 0x80 != 0;
        if h[0] & 0x7f > 6 && h[0] & 0x7f != 127 {
            return Check::broken(pos, "flac-metadata-bad");
        }
        let len = (u64::from(h[1]) << 16) | (u64::from(h[2]) << 8) | u64::from(h[3]);
        pos += 4 + len;
        if last {
            break;
        }
    }
    match c.get(pos, 2) {
        Some(s) if s[0] == 0xff && s[1] & 0xfe == 0xf8 => Check::Intact { complete: false },
        Some(_) => Check::broken(pos, "flac-frame-sync-missing"),
        None => Check::Intact { complete: false },
    }
}

/// Matroska/WebM: EBML header element followed by a Segment.
pub fn matroska(c: &Content) -> Check {
    let Some(h) = c.get(4, 1) else {
        return Check::Truncated { offset: 4 };
    };
    let width = h[0].leading_zeros() as u64 + 1;
    if width > 8 {
        return Check::broken(4, "ebml-size-bad");
    }
    let Some(sz) = c.get(4, width as usize) else {
        return Check::Truncated { offset: 4 };
    };
    let mut v = u64::from(sz[0] & (0xffu8 >> width));
    for &b in &sz[1..] {
        v = (v << 8) | u64::from(b);
    }
    let seg = 4 + width + v;
    match c.get(seg, 4) {
        Some(s) if s == [0x18, 0x53, 0x80, 0x67] => Check::Intact { complete: false },
        Some(_) => Check::broken(seg, "matroska-segment-missing"),
        None => Check::Intact { complete: false },
    }
}
