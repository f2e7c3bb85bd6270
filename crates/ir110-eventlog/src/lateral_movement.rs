//! The lateral-movement graph (account × source host × destination host) and its SVG drawing
//! for reports.
//!
//! The graph is data (`serde`), stored in the `eventlog.lateral-movement` finding's `data.graph`;
//! [`lateral_movement_svg`] draws it as a standalone SVG (no scripts, no external resources, so a
//! report can inline it and it prints as it shows).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A computer named in the logs.
    Host,
    /// A private (internal) address.
    InternalAddress,
    /// A public address (see [`crate::ip_class`]).
    ExternalAddress,
}

/// A host or address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Host name or address, as in the logs.
    pub id: String,
    /// What it is.
    pub kind: NodeKind,
}

/// Logons of one account from one source to one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Source node id.
    pub source: String,
    /// Destination node id.
    pub target: String,
    /// `DOMAIN\user`.
    pub account: String,
    /// Logon types seen (`3`, `10`, `rdp`, `explicit`, …).
    pub logon_types: Vec<String>,
    /// Number of logons.
    pub count: u64,
    /// First logon.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last logon.
    pub last_seen: Option<DateTime<Utc>>,
}

/// Who logged on from where to where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    /// Hosts and addresses, sorted by id.
    pub nodes: Vec<Node>,
    /// Edges, sorted by (account, source, target).
    pub edges: Vec<Edge>,
}

/// Most nodes drawn; the busiest are kept, the rest are summarised in a note.
const MAX_DRAWN_NODES: usize = 40;

/// Draws `graph` as a standalone SVG document: nodes on a circle (hosts blue, internal
/// addresses grey, external addresses red), one arrow per (source, destination) labelled with
/// the accounts. Deterministic: the same graph gives the same bytes.
pub fn lateral_movement_svg(graph: &Graph) -> String {
    // Keep the busiest nodes.
    let mut degree: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &graph.edges {
        *degree.entry(&e.source).or_default() += e.count;
        *degree.entry(&e.target).or_default() += e.count;
    }
    let mut kept: Vec<&Node> = graph.nodes.iter().collect();
    kept.sort_by(|a, b| {
        degree
            .get(b.id.as_str())
            .cmp(&degree.get(a.id.as_str()))
            .then(a.id.cmp(&b.id))
    });
    let hidden = kept.len().saturating_sub(MAX_DRAWN_NODES);
    kept.truncate(MAX_DRAWN_NODES);
    kept.sort_by(|a, b| a.id.cmp(&b.id));

    let n = kept.len().max(1) as f64;
    let radius = (120.0 + 22.0 * n).min(420.0);
    let size = radius * 2.0 + 320.0;
    let centre = size / 2.0;
    let pos: BTreeMap<&str, (f64, f64)> = kept
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let angle = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
            (
                node.id.as_str(),
                (centre + radius * angle.cos(), centre + radius * angle.sin()),
            )
        })
        .collect();

    // One arrow per (source, target), with its accounts.
    let mut arrows: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for e in &graph.edges {
        if pos.contains_key(e.source.as_str()) && pos.contains_key(e.target.as_str()) {
            let accounts = arrows.entry((&e.source, &e.target)).or_default();
            if !accounts.contains(&e.account.as_str()) {
                accounts.push(&e.account);
            }
        }
    }

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{size:.0}" height="{size:.0}" viewBox="0 0 {size:.0} {size:.0}" font-family="sans-serif" font-size="12">"##
    );
    svg.push_str(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##,
    );
    svg.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    for ((src, dst), accounts) in &arrows {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(src), pos.get(dst)) else {
            continue;
        };
        if src == dst {
            continue;
        }
        // Stop the line at the node's edge so the arrowhead shows.
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ex, ey) = (x2 - dx / len * 14.0, y2 - dy / len * 14.0);
        let _ = write!(
            svg,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{ex:.1}" y2="{ey:.1}" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)"/>"##
        );
        let label = if accounts.len() > 3 {
            format!("{} (+{})", accounts[..3].join(", "), accounts.len() - 3)
        } else {
            accounts.join(", ")
        };
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#333" font-size="10">{}</text>"##,
            (x1 + x2) / 2.0,
            (y1 + y2) / 2.0 - 4.0,
            escape(&label)
        );
    }
    for node in &kept {
        let Some(&(x, y)) = pos.get(node.id.as_str()) else {
            continue;
        };
        let fill = match node.kind {
            NodeKind::Host => "#2b6cb0",
            NodeKind::InternalAddress => "#718096",
            NodeKind::ExternalAddress => "#c53030",
        };
        let _ = write!(
            svg,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="12" fill="{fill}"><title>{}</title></circle>"##,
            escape(&node.id)
        );
        let anchor = if x < centre - 1.0 {
            "end"
        } else if x > centre + 1.0 {
            "start"
        } else {
            "middle"
        };
        let (tx, ty) = (
            x + (x - centre) / radius * 18.0,
            y + (y - centre) / radius * 18.0 + 4.0,
        );
        let _ = write!(
            svg,
            r##"<text x="{tx:.1}" y="{ty:.1}" text-anchor="{anchor}" fill="#1a202c">{}</text>"##,
            escape(&node.id)
        );
    }
    if hidden > 0 {
        let _ = write!(
            svg,
            r##"<text x="10" y="{:.0}" fill="#555">+{hidden}</text>"##,
            size - 10.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Escapes text for XML content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_nodes_edges_and_escapes() {
        let graph = Graph {
            nodes: vec![
                Node {
                    id: "203.0.113.50".into(),
                    kind: NodeKind::ExternalAddress,
                },
                Node {
                    id: "FS01<&>".into(),
                    kind: NodeKind::Host,
                },
            ],
            edges: vec![Edge {
                source: "203.0.113.50".into(),
                target: "FS01<&>".into(),
                account: "CORP\\administrator".into(),
                logon_types: vec!["10".into()],
                count: 1,
                first_seen: None,
                last_seen: None,
            }],
        };
        let svg = lateral_movement_svg(&graph);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("<line").count(), 1);
        assert!(svg.contains("FS01&lt;&amp;&gt;"));
        assert!(svg.contains("#c53030"));
        assert!(svg.contains("CORP\\administrator"));
        assert_eq!(svg, lateral_movement_svg(&graph), "deterministic");
    }
}
