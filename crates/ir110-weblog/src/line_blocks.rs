//! The W3C layout in force across blocks of an access log (blocks themselves are cut by
//! `ir110_model::line_blocks`, shared with the other line-oriented analyzers).

pub(crate) use ir110_model::line_blocks::{BLOCK_BYTES, next_block};

use crate::access_log::AccessLayout;

/// The layout in force after `block`, given the one at its start: the last W3C `#Fields:`
/// line in it wins (what matters for parsing; "combined" and "not yet known" parse alike).
pub(crate) fn layout_after(block: &[u8], layout: Option<AccessLayout>) -> Option<AccessLayout> {
    let mut last = None;
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&block[from..], b"#Fields:") {
        let at = from + i;
        let line_start = block[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        // As the line reader sees it: an optional byte-order mark before the `#`.
        let prefix = &block[line_start..at];
        if prefix.is_empty() || prefix == "\u{feff}".as_bytes() {
            last = Some(at);
        }
        from = at + 1;
    }
    let Some(at) = last else {
        return layout;
    };
    let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |e| at + e);
    let line = String::from_utf8_lossy(&block[at + "#Fields:".len()..end]);
    Some(AccessLayout::W3c(
        line.split_whitespace().map(str::to_owned).collect(),
    ))
}
