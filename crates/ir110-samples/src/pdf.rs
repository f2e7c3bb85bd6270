//! A PDF 1.4 writer: catalog, one page per block of lines, Helvetica text in Flate-compressed
//! content streams, a correct cross-reference table and trailer. Optionally encrypted with the
//! Standard security handler (revision 2, RC4 40-bit; ISO 32000-1 §7.6.3), so the encrypted
//! control is a file a PDF reader really asks a password for.

use std::io::Write;

use flate2::{Compression, write::ZlibEncoder};
use md5::{Digest, Md5};

/// The padding string of the Standard security handler (ISO 32000-1, Algorithm 2).
const PAD: [u8; 32] = [
    0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08,
    0x2e, 0x2e, 0x00, 0xb6, 0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
];

fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s: [u8; 256] = std::array::from_fn(|i| i as u8);
    let mut j: u8 = 0;
    for i in 0..256 {
        j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
        s.swap(i, usize::from(j));
    }
    let (mut i, mut j) = (0u8, 0u8);
    data.iter()
        .map(|&b| {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[usize::from(i)]);
            s.swap(usize::from(i), usize::from(j));
            b ^ s[usize::from(s[usize::from(i)].wrapping_add(s[usize::from(j)]))]
        })
        .collect()
}

fn padded(password: &str) -> Vec<u8> {
    let mut p: Vec<u8> = password.bytes().take(32).collect();
    p.extend_from_slice(&PAD[..32 - p.len()]);
    p
}

struct Security {
    key: Vec<u8>,
    o: Vec<u8>,
    u: Vec<u8>,
    p: i32,
}

impl Security {
    fn new(user: &str, owner: &str, id: &[u8]) -> Self {
        let okey = Md5::digest(padded(owner));
        let o = rc4(&okey[..5], &padded(user));
        let p: i32 = -44; // print and copy allowed, modify denied
        let mut h = Md5::new();
        h.update(padded(user));
        h.update(&o);
        h.update(p.to_le_bytes());
        h.update(id);
        let key = h.finalize()[..5].to_vec();
        let u = rc4(&key, &PAD);
        Security { key, o, u, p }
    }

    fn object_key(&self, num: u32) -> Vec<u8> {
        let mut h = Md5::new();
        h.update(&self.key);
        h.update(&num.to_le_bytes()[..3]);
        h.update([0u8, 0]);
        h.finalize()[..10].to_vec()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Writes a PDF with `title` in its metadata and `lines` of ASCII text on its pages.
/// With `password`, the document is encrypted and opens only with that user password.
pub fn pdf(title: &str, lines: &[String], password: Option<&str>) -> Vec<u8> {
    let id: Vec<u8> = Md5::digest(title.as_bytes()).to_vec();
    let security = password.map(|pw| Security::new(pw, "owner-secret", &id));
    let pages: Vec<&[String]> = lines.chunks(45).collect();
    let n_pages = pages.len().max(1);
    // Objects: 1 catalog, 2 pages, 3 font, 4 info, then (page, content) pairs, then encrypt.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..n_pages).map(|i| format!("{} 0 R", 5 + 2 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {n_pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    let mut title_utf16 = vec![0xfe, 0xff];
    title_utf16.extend(title.encode_utf16().flat_map(u16::to_be_bytes));
    if let Some(sec) = &security {
        title_utf16 = rc4(&sec.object_key(4), &title_utf16);
    }
    objects.push(
        format!(
            "<< /Title <{}> /Producer (ir110-samples) /CreationDate (D:20260401090000+09'00') >>",
            hex(&title_utf16)
        )
        .into_bytes(),
    );
    let empty: [String; 0] = [];
    for p in 0..n_pages {
        let page_lines = pages.get(p).copied().unwrap_or(&empty);
        let mut content = String::from("BT /F1 11 Tf 14 TL 56 790 Td\n");
        for l in page_lines {
            let safe: String = l
                .chars()
                .map(|c| {
                    if c.is_ascii() && !c.is_ascii_control() {
                        c
                    } else {
                        '?'
                    }
                })
                .collect();
            content.push_str(&format!(
                "({}) Tj T*\n",
                safe.replace('\\', "\\\\")
                    .replace('(', "\\(")
                    .replace(')', "\\)")
            ));
        }
        content.push_str("ET\n");
        let mut z = ZlibEncoder::new(Vec::new(), Compression::new(6));
        let _ = z.write_all(content.as_bytes());
        let mut stream = z.finish().unwrap_or_default();
        let content_num = (6 + 2 * p) as u32;
        if let Some(sec) = &security {
            stream = rc4(&sec.object_key(content_num), &stream);
        }
        objects.push(format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {content_num} 0 R >>").into_bytes());
        let mut obj = format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            stream.len()
        )
        .into_bytes();
        obj.extend_from_slice(&stream);
        obj.extend_from_slice(b"\nendstream");
        objects.push(obj);
    }
    if let Some(sec) = &security {
        objects.push(
            format!(
                "<< /Filter /Standard /V 1 /R 2 /O <{}> /U <{}> /P {} >>",
                hex(&sec.o),
                hex(&sec.u),
                sec.p
            )
            .into_bytes(),
        );
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let encrypt = if security.is_some() {
        format!(" /Encrypt {} 0 R", objects.len())
    } else {
        String::new()
    };
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 4 0 R{encrypt} /ID [<{}> <{}>] >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1,
            hex(&id),
            hex(&id)
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rc4_known_vector() {
        // RFC 6229-style classic vector: key "Key", plaintext "Plaintext".
        assert_eq!(hex(&rc4(b"Key", b"Plaintext")), "BBF316E8D940AF0AD3");
    }
}
