//! Sigma value modifiers and the value transformations they imply.
//!
//! A rule value goes through three stages: the YAML scalar is read as a *Sigma string* (literal
//! characters and the wildcards `*` and `?`, with `\` escapes), the modifiers transform it left
//! to right (encodings, `windash` expansion, `contains` wildcards, …), and the result is
//! compiled into a matcher ([`crate::matcher`]). The transformations follow the Sigma
//! specification v2 and pySigma's behaviour where the specification is silent (base64offset
//! offsets, windash characters).

use std::collections::HashMap;

/// One value modifier, as written after `|` in a field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Re,
    ReI,
    ReM,
    ReS,
    Cidr,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    WinDash,
    Exists,
    Cased,
    Gt,
    Gte,
    Lt,
    Lte,
    FieldRef,
    Expand,
    /// Hayabusa's `endswithfield`: the field ends with another field's value.
    EndsWithField,
    /// Time-part modifiers: compare one part of a timestamp value.
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Modifier {
    /// Parses a modifier name (case-insensitive, with the aliases Sigma and Hayabusa accept).
    pub fn parse(name: &str) -> Option<Modifier> {
        Some(match name.to_ascii_lowercase().as_str() {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "re" => Modifier::Re,
            "i" | "ignorecase" => Modifier::ReI,
            "m" | "multiline" => Modifier::ReM,
            "s" | "dotall" => Modifier::ReS,
            "cidr" => Modifier::Cidr,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" | "wide" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "windash" => Modifier::WinDash,
            "exists" => Modifier::Exists,
            "cased" => Modifier::Cased,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "fieldref" | "equalsfield" => Modifier::FieldRef,
            "endswithfield" => Modifier::EndsWithField,
            "minute" => Modifier::Minute,
            "hour" => Modifier::Hour,
            "day" => Modifier::Day,
            "week" => Modifier::Week,
            "month" => Modifier::Month,
            "year" => Modifier::Year,
            "expand" => Modifier::Expand,
            _ => return None,
        })
    }
}

/// One element of a Sigma string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A literal character.
    Lit(char),
    /// `*`: any sequence, possibly empty.
    Any,
    /// `?`: exactly one character.
    One,
}

/// Reads a rule value into tokens. `\*`, `\?` and `\\` are escapes; a backslash before anything
/// else is a literal backslash (so Windows paths need no doubling).
pub(crate) fn parse_sigma_string(s: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    out.push(Tok::Lit(n));
                    chars.next();
                }
                _ => out.push(Tok::Lit('\\')),
            },
            '*' => {
                if out.last() != Some(&Tok::Any) {
                    out.push(Tok::Any);
                }
            }
            '?' => out.push(Tok::One),
            c => out.push(Tok::Lit(c)),
        }
    }
    out
}

/// A literal-only token string for text that must not be read for wildcards.
pub(crate) fn literal(s: &str) -> Vec<Tok> {
    s.chars().map(Tok::Lit).collect()
}

/// The literal characters of a token string (wildcards dropped, for encodings).
pub(crate) fn literal_text(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Any => '*',
            Tok::One => '?',
        })
        .collect()
}

/// Adds a leading and/or trailing `*`, without doubling one already there.
pub(crate) fn wrap(mut toks: Vec<Tok>, start: bool, end: bool) -> Vec<Tok> {
    if start && toks.first() != Some(&Tok::Any) {
        toks.insert(0, Tok::Any);
    }
    if end && toks.last() != Some(&Tok::Any) {
        toks.push(Tok::Any);
    }
    toks
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The three base64 renderings of `data` at byte offsets 0, 1 and 2 of an unknown stream, with
/// the characters that depend on the unknown neighbours cut off (pySigma's `base64offset`).
pub(crate) fn base64_offsets(data: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(data);
            let enc = base64(&padded);
            let end_cut = match (data.len() + i) % 3 {
                0 => 0,
                1 => 3,
                _ => 2,
            };
            let end = enc.len().saturating_sub(end_cut);
            enc.get(START[i]..end).unwrap_or("").to_owned()
        })
        .collect()
}

/// UTF-16 little- or big-endian bytes of a text.
pub(crate) fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for u in text.encode_utf16() {
        let b = if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        };
        out.extend_from_slice(&b);
    }
    out
}

/// The characters Windows command lines accept in place of a leading `-` or `/`.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

fn is_word(t: Option<&Tok>) -> bool {
    matches!(t, Some(Tok::Lit(c)) if c.is_alphanumeric() || *c == '_')
}

/// Expands `-` and `/` at the start of a word (regex `\B[-/]\b`) into every Windows dash
/// variant. Returns every combination; callers bound the count.
pub(crate) fn windash(toks: &[Tok]) -> Vec<Vec<Tok>> {
    let positions: Vec<usize> = (0..toks.len())
        .filter(|&i| {
            matches!(toks[i], Tok::Lit('-' | '/'))
                && !is_word(i.checked_sub(1).and_then(|p| toks.get(p)))
                && is_word(toks.get(i + 1))
        })
        .collect();
    let mut out = vec![toks.to_vec()];
    for &p in positions.iter().take(4) {
        let mut next = Vec::with_capacity(out.len() * DASHES.len());
        for v in &out {
            for d in DASHES {
                let mut w = v.clone();
                w[p] = Tok::Lit(d);
                next.push(w);
            }
        }
        out = next;
    }
    out
}

/// Replaces `%name%` placeholders with every value the caller supplied. `None` when a
/// placeholder has no values (the name is returned for the diagnostic).
pub(crate) fn expand(
    text: &str,
    placeholders: &HashMap<String, Vec<String>>,
) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        let Some(len) = rest[start + 1..].find('%') else {
            break;
        };
        let name = &rest[start + 1..start + 1 + len];
        let prefix = &rest[..start];
        let values = placeholders.get(name).ok_or_else(|| name.to_owned())?;
        let mut next = Vec::with_capacity(results.len() * values.len());
        for r in &results {
            for v in values {
                next.push(format!("{r}{prefix}{v}"));
            }
        }
        results = next;
        rest = &rest[start + 2 + len..];
    }
    for r in &mut results {
        r.push_str(rest);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            parse_sigma_string(r"a\*b\?c\\d\e*?"),
            vec![
                Tok::Lit('a'),
                Tok::Lit('*'),
                Tok::Lit('b'),
                Tok::Lit('?'),
                Tok::Lit('c'),
                Tok::Lit('\\'),
                Tok::Lit('d'),
                Tok::Lit('\\'),
                Tok::Lit('e'),
                Tok::Any,
                Tok::One
            ]
        );
        // `\\*` is a literal backslash followed by a wildcard.
        assert_eq!(parse_sigma_string(r"\\*"), vec![Tok::Lit('\\'), Tok::Any]);
    }

    #[test]
    fn base64_forms() {
        assert_eq!(base64(b"sigma"), "c2lnbWE=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        // pySigma's documented example for `base64offset`.
        assert_eq!(
            base64_offsets(b"/bin/bash"),
            ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
        assert_eq!(base64(&utf16("ab", false)), "YQBiAA==");
        assert_eq!(utf16("a", true), vec![0, b'a']);
    }

    #[test]
    fn windash_variants() {
        let v = windash(&literal("net -a /b x-y"));
        assert_eq!(v.len(), 25);
        let texts: Vec<String> = v.iter().map(|t| literal_text(t)).collect();
        assert!(texts.contains(&"net /a -b x-y".to_owned()));
        assert!(texts.contains(&"net \u{2013}a \u{2014}b x-y".to_owned()));
        assert!(texts.iter().all(|t| t.ends_with("x-y")));
    }

    #[test]
    fn expand_placeholders() {
        let mut p = HashMap::new();
        p.insert("DC".to_owned(), vec!["dc1".to_owned(), "dc2".to_owned()]);
        assert_eq!(
            expand("host-%DC%$", &p).unwrap(),
            vec!["host-dc1$", "host-dc2$"]
        );
        assert_eq!(expand("%nope%", &p).unwrap_err(), "nope");
        assert_eq!(expand("100%", &p).unwrap(), vec!["100%"]);
    }
}
