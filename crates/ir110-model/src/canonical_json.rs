//! One text for one JSON value: compact, with the keys of every object in sorted order. Used
//! wherever JSON is hashed (stored event identities, pinned report digests in tests), so a
//! digest does not depend on the order fields were filled in or on whether serde_json keeps
//! insertion order (its `preserve_order` feature, switched on by other crates in a build).

/// The canonical text of `value`.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_depth_and_arrays_keep_their_order() {
        let value: serde_json::Value =
            serde_json::from_str(r#"{"b":[3,{"z":1,"a":"x\"y"}],"a":{"d":null,"c":true},"é":1.5}"#)
                .unwrap_or_default();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":true,"d":null},"b":[3,{"a":"x\"y","z":1}],"é":1.5}"#
        );
        let reordered: serde_json::Value =
            serde_json::from_str(r#"{"é":1.5,"a":{"c":true,"d":null},"b":[3,{"a":"x\"y","z":1}]}"#)
                .unwrap_or_default();
        assert_eq!(canonical_json(&reordered), canonical_json(&value));
    }
}
