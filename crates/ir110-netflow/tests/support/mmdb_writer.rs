//! A minimal MaxMind DB writer for tests: IPv4 prefixes → `{country: {iso_code}}`.
//!
//! Follows the MaxMind DB format spec (binary search tree with 24-bit records, a 16-byte
//! separator, the data section, then the metadata map after `\xAB\xCD\xEFMaxMind.com`).
//! Databases are built at test time so none is ever stored or downloaded.

#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

fn ctrl(out: &mut Vec<u8>, kind: u8, size: usize) {
    assert!(size < 29, "small values only");
    if kind <= 7 {
        out.push((kind << 5) | size as u8);
    } else {
        out.push(size as u8);
        out.push(kind - 7);
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    ctrl(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes: Vec<u8> = v
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    ctrl(out, kind, bytes.len());
    out.extend_from_slice(&bytes);
}

/// An IPv4 country database for `(a.b.c.d, prefix length, ISO code)` entries.
pub fn country_db(entries: &[([u8; 4], u8, &str)]) -> Vec<u8> {
    // Data section: one record per entry.
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for (_, _, iso) in entries {
        offsets.push(data.len());
        ctrl(&mut data, 7, 1);
        string(&mut data, "country");
        ctrl(&mut data, 7, 1);
        string(&mut data, "iso_code");
        string(&mut data, iso);
    }
    // Search tree.
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for ((ip, len, _), off) in entries.iter().zip(&offsets) {
        let bits = u32::from_be_bytes(*ip);
        let mut node = 0;
        for i in 0..*len {
            let bit = ((bits >> (31 - i)) & 1) as usize;
            if i + 1 == *len {
                nodes[node][bit] = Rec::Data(*off);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(n) => n,
                    _ => {
                        nodes.push([Rec::Empty, Rec::Empty]);
                        let n = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(n);
                        n
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for n in &nodes {
        for r in n {
            let v = match *r {
                Rec::Empty => count,
                Rec::Node(x) => x,
                Rec::Data(off) => count + 16 + off,
            } as u32;
            out.extend_from_slice(&v.to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    ctrl(&mut out, 7, 9);
    string(&mut out, "binary_format_major_version");
    uint(&mut out, 5, 2);
    string(&mut out, "binary_format_minor_version");
    uint(&mut out, 5, 0);
    string(&mut out, "build_epoch");
    uint(&mut out, 9, 1_767_225_600);
    string(&mut out, "database_type");
    string(&mut out, "ir110-Test-Country");
    string(&mut out, "description");
    ctrl(&mut out, 7, 1);
    string(&mut out, "en");
    string(&mut out, "test database");
    string(&mut out, "ip_version");
    uint(&mut out, 5, 4);
    string(&mut out, "languages");
    ctrl(&mut out, 11, 1);
    string(&mut out, "en");
    string(&mut out, "node_count");
    uint(&mut out, 6, count as u64);
    string(&mut out, "record_size");
    uint(&mut out, 5, 24);
    out
}
