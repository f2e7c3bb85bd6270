//! The Sigma condition language.
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | quant | IDENT
//! quant   := ("1" | "any" | "all" | N) "of" (PATTERN | "them")
//! ```
//!
//! Keywords are case-insensitive. `PATTERN` is an identifier with `*` wildcards
//! (`selection_*`). `them` is every identifier not starting with `_`. The deprecated pipe
//! aggregations (`selection | count(field) by group > 5`) are split off by
//! [`split_aggregation`] and evaluated as the equivalent correlation; other aggregation
//! functions (`sum`, `avg`, `near`, …) are refused with their own diagnostic.

use crate::rule::CountOp;

/// A deprecated `| count(field) by group op n` aggregation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Aggregation {
    /// `count(field)`: distinct values of the field; `count()`: events.
    pub field: Option<String>,
    /// `by group`.
    pub group_by: Option<String>,
    pub op: CountOp,
    pub value: f64,
}

/// Splits `cond | count(...) by x > n` into the condition and the aggregation. `Ok(None)` when
/// there is no pipe.
pub(crate) fn split_aggregation(s: &str) -> Result<Option<(&str, Aggregation)>, CondError> {
    let Some(pipe) = s.find('|') else {
        return Ok(None);
    };
    let (left, right) = (&s[..pipe], s[pipe + 1..].trim());
    let err = |message: &str| CondError {
        message: message.to_owned(),
        offset: pipe,
        aggregation: true,
    };
    let Some(rest) = right.strip_prefix("count(") else {
        return Err(err(
            "only the `count()` aggregation is supported (`sum`, `avg`, `min`, `max`, `near` are not)",
        ));
    };
    let close = rest
        .find(')')
        .ok_or_else(|| err("`count(` is not closed"))?;
    let field = Some(rest[..close].trim())
        .filter(|f| !f.is_empty())
        .map(str::to_owned);
    let mut rest = rest[close + 1..].trim();
    let mut group_by = None;
    if let Some(r) = rest.strip_prefix("by ") {
        let r = r.trim_start();
        let end = r
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '='))
            .unwrap_or(r.len());
        group_by = Some(r[..end].to_owned());
        rest = r[end..].trim();
    }
    let (op, num) = [
        (">=", CountOp::Gte),
        ("<=", CountOp::Lte),
        ("==", CountOp::Eq),
        (">", CountOp::Gt),
        ("<", CountOp::Lt),
        ("=", CountOp::Eq),
    ]
    .iter()
    .find_map(|(t, op)| rest.strip_prefix(t).map(|n| (*op, n)))
    .ok_or_else(|| err("an aggregation needs a comparison such as `> 5`"))?;
    let value = num
        .trim()
        .parse()
        .map_err(|_| err("the aggregation threshold must be a number"))?;
    Ok(Some((
        left,
        Aggregation {
            field,
            group_by,
            op,
            value,
        },
    )))
}

/// A parsed, unresolved condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CondAst {
    And(Vec<CondAst>),
    Or(Vec<CondAst>),
    Not(Box<CondAst>),
    /// A search identifier; the byte offset in the condition text.
    Ident(String, usize),
    /// `N of pattern`; `count` 0 means `all`; `pattern` `None` means `them`.
    Of {
        count: usize,
        pattern: Option<String>,
        offset: usize,
    },
}

/// A condition syntax error: message and byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CondError {
    pub message: String,
    pub offset: usize,
    /// The error is a deprecated aggregation rather than a syntax error.
    pub aggregation: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    LParen,
    RParen,
    Pipe,
    Word(String),
}

fn tokenize(s: &str) -> Vec<(Token, usize)> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            '(' => {
                out.push((Token::LParen, i));
                chars.next();
            }
            ')' => {
                out.push((Token::RParen, i));
                chars.next();
            }
            '|' => {
                out.push((Token::Pipe, i));
                chars.next();
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            _ => {
                let start = i;
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '|') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push((Token::Word(word), start));
            }
        }
    }
    out
}

struct P {
    toks: Vec<(Token, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
}

/// Nesting deeper than this is refused (hostile input; real rules nest 3–4 levels).
const MAX_DEPTH: usize = 64;

impl P {
    fn peek_word(&self) -> Option<String> {
        match self.toks.get(self.pos) {
            Some((Token::Word(w), _)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map(|t| t.1).unwrap_or(self.end)
    }

    fn err(&self, message: impl Into<String>) -> CondError {
        CondError {
            message: message.into(),
            offset: self.offset(),
            aggregation: false,
        }
    }

    fn expr(&mut self) -> Result<CondAst, CondError> {
        let mut items = vec![self.and()?];
        while self.peek_word().as_deref() == Some("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            CondAst::Or(items)
        })
    }

    fn and(&mut self) -> Result<CondAst, CondError> {
        let mut items = vec![self.unary()?];
        while self.peek_word().as_deref() == Some("and") {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            CondAst::And(items)
        })
    }

    fn unary(&mut self) -> Result<CondAst, CondError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("condition nests too deeply"));
        }
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<CondAst, CondError> {
        let offset = self.offset();
        match self.toks.get(self.pos).cloned() {
            None => Err(self.err("condition ends where a search identifier was expected")),
            Some((Token::LParen, _)) => {
                self.pos += 1;
                let e = self.expr()?;
                match self.toks.get(self.pos) {
                    Some((Token::RParen, _)) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err(self.err("missing `)`")),
                }
            }
            Some((Token::RParen, _)) => Err(self.err("unexpected `)`")),
            Some((Token::Pipe, _)) => Err(self.err("unexpected `|`")),
            Some((Token::Word(w), _)) => {
                let lw = w.to_ascii_lowercase();
                match lw.as_str() {
                    "not" => {
                        self.pos += 1;
                        Ok(CondAst::Not(Box::new(self.unary()?)))
                    }
                    "and" | "or" | "of" => Err(self.err(format!("unexpected `{w}`"))),
                    _ => {
                        let is_of = matches!(self.toks.get(self.pos + 1),
                            Some((Token::Word(n), _)) if n.eq_ignore_ascii_case("of"));
                        if !is_of {
                            self.pos += 1;
                            return Ok(CondAst::Ident(w, offset));
                        }
                        let count = match lw.as_str() {
                            "all" => 0,
                            "any" => 1,
                            n => match n.parse::<usize>() {
                                Ok(n) if n > 0 => n,
                                _ => {
                                    return Err(self
                                        .err(format!("`{w} of`: expected `1`, `all` or a count")));
                                }
                            },
                        };
                        self.pos += 2;
                        match self.toks.get(self.pos).cloned() {
                            Some((Token::Word(p), _)) => {
                                self.pos += 1;
                                let pattern = (!p.eq_ignore_ascii_case("them")).then_some(p);
                                Ok(CondAst::Of {
                                    count,
                                    pattern,
                                    offset,
                                })
                            }
                            _ => Err(self.err("`of` must be followed by a pattern or `them`")),
                        }
                    }
                }
            }
        }
    }
}

/// Parses one condition string.
pub(crate) fn parse_condition(s: &str) -> Result<CondAst, CondError> {
    let toks = tokenize(s);
    if let Some((_, off)) = toks.iter().find(|(t, _)| *t == Token::Pipe) {
        return Err(CondError {
            message: "an aggregation (`| count() ...`) is only allowed once, at the end".into(),
            offset: *off,
            aggregation: true,
        });
    }
    let mut p = P {
        toks,
        pos: 0,
        end: s.len(),
        depth: 0,
    };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        return Err(p.err("unexpected text after the condition (missing `and`/`or`?)"));
    }
    Ok(e)
}

/// Whether an identifier matches an `of` pattern (`*` wildcards only, exact case).
pub(crate) fn pattern_matches(pattern: &str, ident: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == ident;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if ident.len() < first.len() + last.len() || !ident.starts_with(first) || !ident.ends_with(last)
    {
        return false;
    }
    let mut rest = &ident[first.len()..ident.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str, o: usize) -> CondAst {
        CondAst::Ident(s.into(), o)
    }

    #[test]
    fn precedence() {
        // not > and > or
        assert_eq!(
            parse_condition("a or b and not c").unwrap(),
            CondAst::Or(vec![
                id("a", 0),
                CondAst::And(vec![id("b", 5), CondAst::Not(Box::new(id("c", 15)))])
            ])
        );
        assert_eq!(
            parse_condition("(a or b) and c").unwrap(),
            CondAst::And(vec![CondAst::Or(vec![id("a", 1), id("b", 6)]), id("c", 13)])
        );
    }

    #[test]
    fn quantifiers() {
        assert_eq!(
            parse_condition("1 of selection_* and not all of them").unwrap(),
            CondAst::And(vec![
                CondAst::Of {
                    count: 1,
                    pattern: Some("selection_*".into()),
                    offset: 0
                },
                CondAst::Not(Box::new(CondAst::Of {
                    count: 0,
                    pattern: None,
                    offset: 25
                }))
            ])
        );
        assert!(matches!(
            parse_condition("2 OF sel*").unwrap(),
            CondAst::Of { count: 2, .. }
        ));
    }

    #[test]
    fn errors() {
        assert_eq!(parse_condition("a and").unwrap_err().offset, 5);
        assert_eq!(parse_condition("(a").unwrap_err().message, "missing `)`");
        assert_eq!(parse_condition("a b").unwrap_err().offset, 2);
        assert!(
            parse_condition("sel | count() > 5")
                .unwrap_err()
                .aggregation
        );
        assert!(parse_condition("").is_err());
        assert!(parse_condition(&"(".repeat(1000)).is_err());
        assert!(parse_condition("x of y").is_err());
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("selection_*", "selection_img"));
        assert!(!pattern_matches("selection_*", "filter_img"));
        assert!(pattern_matches("*", "x"));
        assert!(pattern_matches("sel*_a*", "sel_x_ab"));
        assert!(pattern_matches("sel", "sel"));
        assert!(!pattern_matches("sel", "sel2"));
    }
}
