//! Line wrapping by display width, for text that mixes Japanese and English.
//!
//! Japanese characters take two terminal columns and may break between any two characters,
//! except that closing punctuation (`、。）」`) must not start a line and opening brackets must
//! not end one (禁則処理). ASCII words, commands and URLs are never split; a word longer than
//! the line overflows rather than breaking a command someone will copy.

/// Columns a character occupies in a terminal: 2 for East Asian wide and full-width forms.
pub(crate) fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// Display width of a string.
pub(crate) fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Must not start a line.
fn no_break_before(c: char) -> bool {
    matches!(
        c,
        '、' | '。'
            | '，'
            | '．'
            | '）'
            | '」'
            | '』'
            | '】'
            | '〕'
            | '！'
            | '？'
            | '：'
            | '；'
            | 'ー'
            | 'ァ'
            | 'ィ'
            | 'ゥ'
            | 'ェ'
            | 'ォ'
            | 'ッ'
            | 'ャ'
            | 'ュ'
            | 'ョ'
            | 'ヮ'
            | 'ヵ'
            | 'ヶ'
            | 'ぁ'
            | 'ぃ'
            | 'ぅ'
            | 'ぇ'
            | 'ぉ'
            | 'っ'
            | 'ゃ'
            | 'ゅ'
            | 'ょ'
            | 'ゎ'
            | '・'
            | '～'
            | ')'
            | ','
            | '.'
            | ':'
            | ';'
            | '!'
            | '?'
    )
}

/// Must not end a line.
fn no_break_after(c: char) -> bool {
    matches!(c, '（' | '「' | '『' | '【' | '〔' | '(')
}

/// An unbreakable piece of text, and whether a space separated it from the previous one.
struct Piece {
    text: String,
    width: usize,
    space_before: bool,
}

/// Splits text into pieces between which a line may break.
fn pieces(text: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut space = false;
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            prev = None;
            continue;
        }
        let glue = match prev {
            None => false,
            Some(p) => {
                let both_narrow = char_width(p) == 1 && char_width(c) == 1;
                both_narrow || no_break_before(c) || no_break_after(p)
            }
        };
        match out.last_mut() {
            Some(last) if glue && !space => {
                last.text.push(c);
                last.width += char_width(c);
            }
            _ => out.push(Piece {
                text: c.to_string(),
                width: char_width(c),
                space_before: space,
            }),
        }
        space = false;
        prev = Some(c);
    }
    out
}

/// Wraps `text` to `max` columns. The first line starts with `first`, the following ones with
/// `rest` (both counted in the width). Returns lines without trailing newlines.
pub(crate) fn wrap(text: &str, first: &str, rest: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut used = width(first);
    let mut empty = true;
    for piece in pieces(text) {
        let gap = usize::from(piece.space_before && !empty);
        if !empty && used + gap + piece.width > max {
            lines.push(std::mem::replace(&mut line, rest.to_owned()));
            used = width(rest);
            empty = true;
        }
        if piece.space_before && !empty {
            line.push(' ');
            used += 1;
        }
        line.push_str(&piece.text);
        used += piece.width;
        empty = false;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(width("LAN ケーブル"), 4 + 8);
        assert_eq!(width("（）、。"), 8);
    }

    #[test]
    fn english_breaks_at_spaces() {
        assert_eq!(
            wrap("pull the LAN cable now", "- ", "  ", 12),
            ["- pull the", "  LAN cable", "  now"]
        );
    }

    #[test]
    fn japanese_breaks_between_characters_but_not_before_closing_punctuation() {
        // 8 columns: 「あいうえ」 would fit, but 。 must not start the next line.
        let lines = wrap("あいうえ。かき", "", "", 8);
        assert_eq!(lines, ["あいう", "え。かき"]);
        // Words and commands are not split, even when they overflow.
        let lines = wrap("次に ir110 collect を実行", "", "", 10);
        assert_eq!(lines, ["次に ir110", "collect を", "実行"]);
        let lines = wrap("次に ir110 collect を実行", "", "", 6);
        assert_eq!(lines, ["次に", "ir110", "collect", "を実行"]);
    }

    #[test]
    fn opening_brackets_stay_with_what_follows() {
        assert_eq!(wrap("あいう（え）", "", "", 8), ["あいう", "（え）"]);
        // Small kana stay with the character before them (入力フ|ォーム is wrong).
        assert_eq!(wrap("入力フォーム", "", "", 8), ["入力", "フォーム"]);
    }
}
