//! A YAML node tree that remembers where each node came from.
//!
//! Sigma diagnostics must point at the line and column of the problem, which a serde-based YAML
//! loader forgets. We therefore build our own small tree from the event stream of `yaml-rust2`'s
//! parser (the low-level API, stable across versions). The tree keeps scalars as text plus a flag
//! telling whether they were plain (unquoted): Sigma gives meaning to that (`null`, numbers) and
//! nothing else in YAML typing matters to it.
//!
//! Defences: aliases are expanded by cloning, so a node budget stops "billion laughs" inputs, and
//! the builder is iterative, so deep nesting cannot overflow the stack.

use std::collections::HashMap;

use serde::Serialize;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Largest number of nodes one file may expand to (aliases included).
const NODE_BUDGET: usize = 1_000_000;

/// A position in a rule file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Location {
    /// Line, counting from 1.
    pub line: usize,
    /// Column, counting from 1.
    pub column: usize,
}

impl Location {
    fn from_marker(m: Marker) -> Location {
        Location {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// A YAML node with its location.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub loc: Location,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// A scalar: its text, and whether it was written plain (unquoted, not a block).
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order (duplicates kept; the rule reader reports them).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, when this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is the YAML null (plain `null`, `~`, `Null`, `NULL` or an empty plain scalar).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value for a scalar key in a mapping (the first, if the key is repeated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short name of the node's kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "null",
            NodeKind::Scalar { .. } => "scalar",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
        }
    }
}

/// A YAML syntax error with its location.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YamlError {
    pub message: String,
    pub loc: Location,
}

/// Parses every document of a YAML stream.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        message: e.info().to_owned(),
        loc: Location::from_marker(*e.marker()),
    })?;
    if let Some(loc) = builder.overflow {
        return Err(YamlError {
            message: format!("the document expands to more than {NODE_BUDGET} nodes"),
            loc,
        });
    }
    Ok(builder.documents)
}

/// An open container while events stream in.
enum Open {
    Seq {
        items: Vec<Node>,
        loc: Location,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        loc: Location,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    documents: Vec<Node>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    overflow: Option<Location>,
}

fn count_nodes(node: &Node) -> usize {
    // Iterative count, so a deep alias target cannot overflow the stack.
    let mut n = 0;
    let mut todo = vec![node];
    while let Some(x) = todo.pop() {
        n += 1;
        match &x.kind {
            NodeKind::Scalar { .. } => {}
            NodeKind::Seq(s) => todo.extend(s.iter()),
            NodeKind::Map(m) => {
                for (k, v) in m {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
    }
    n
}

impl Builder {
    fn finish_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.overflow.is_some() {
            return;
        }
        let loc = Location::from_marker(mark);
        self.nodes += 1;
        if self.nodes > NODE_BUDGET {
            self.overflow = Some(loc);
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = matches!(style, TScalarStyle::Plain);
                self.finish_node(
                    Node {
                        kind: NodeKind::Scalar { text, plain },
                        loc,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq {
                items: Vec::new(),
                loc,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Open::Map {
                entries: Vec::new(),
                pending_key: None,
                loc,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Seq { items, loc, anchor }) => self.finish_node(
                    Node {
                        kind: NodeKind::Seq(items),
                        loc,
                    },
                    anchor,
                ),
                Some(Open::Map {
                    entries,
                    loc,
                    anchor,
                    ..
                }) => self.finish_node(
                    Node {
                        kind: NodeKind::Map(entries),
                        loc,
                    },
                    anchor,
                ),
                None => {}
            },
            Event::Alias(id) => {
                // An alias to an unknown anchor is a scanner error upstream; an empty scalar is a
                // harmless stand-in should it ever get here.
                let node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    kind: NodeKind::Scalar {
                        text: String::new(),
                        plain: true,
                    },
                    loc,
                });
                self.nodes += count_nodes(&node);
                if self.nodes > NODE_BUDGET {
                    self.overflow = Some(loc);
                    return;
                }
                self.finish_node(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_documents() {
        let docs = parse_documents("a: 1\nb:\n  - 'x'\n  - ~\n---\nc: d\n").unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.loc.line, 3);
        let items = b.as_seq().unwrap();
        assert_eq!(items[0].as_str(), Some("x"));
        assert_eq!(items[0].loc, Location { line: 3, column: 5 });
        assert!(items[1].is_null());
        assert!(!items[0].is_null());
        assert_eq!(docs[1].get("c").unwrap().as_str(), Some("d"));
    }

    #[test]
    fn syntax_error_has_location() {
        let e = parse_documents("a: [1, 2\nb: c\n").unwrap_err();
        assert!(e.loc.line >= 1);
    }

    #[test]
    fn aliases_expand_and_are_budgeted() {
        let docs = parse_documents("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(docs[0].get("b").unwrap().as_seq().unwrap().len(), 2);
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse_documents(&bomb).is_err());
    }
}
