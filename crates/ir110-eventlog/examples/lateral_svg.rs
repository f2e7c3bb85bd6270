//! Draws the lateral-movement graph of a `hunt --json` result:
//! `cargo run -p ir110-eventlog --example lateral_svg -- hunt.json > graph.svg`.
#![allow(missing_docs)]

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "hunt.json".to_owned());
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let empty = Vec::new();
    let findings = report["findings"].as_array().unwrap_or(&empty);
    for f in findings {
        if f["rule"] == "eventlog.lateral-movement" {
            let graph: ir110_eventlog::Graph = serde_json::from_value(f["data"]["graph"].clone())?;
            print!("{}", ir110_eventlog::lateral_movement_svg(&graph));
        }
    }
    Ok(())
}
