//! The OpenAPI 3.1 document, written from the route table (no macro crate: nothing to compile,
//! and a route cannot be left out).

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::routes::{Access, ROUTES};

/// Builds the document.
pub(crate) fn build() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        // Pages are views of the API's data; the document covers the API and every action
        // (form posts and the language switch) of the UI.
        if route.html {
            continue;
        }
        let path = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        let mut op = Map::new();
        op.insert("summary".into(), route.summary.into());
        op.insert(
            "operationId".into(),
            format!(
                "{}{}",
                route.method.to_ascii_lowercase(),
                route
                    .path
                    .replace(['/', '{', '}', '.', '-'], "_")
                    .trim_end_matches('_')
            )
            .into(),
        );
        let mut params = Vec::new();
        for name in ["id", "lang"] {
            if route.path.contains(&format!("{{{name}}}")) {
                params.push(json!({"name": name, "in": "path", "required": true,
                    "schema": {"type": if name == "id" { "integer" } else { "string" }}}));
            }
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if !route.fields.is_empty() {
            let props: Map<String, Value> = route
                .fields
                .iter()
                .map(|(name, ty)| ((*name).to_owned(), json!({"type": ty})))
                .collect();
            let schema = json!({"type": "object", "properties": props});
            op.insert(
                "requestBody".into(),
                json!({"content": {
                    "application/json": {"schema": schema},
                    "application/x-www-form-urlencoded": {"schema": schema}
                }}),
            );
        }
        let security = match route.access {
            Access::Public => json!([]),
            _ => json!([{"bearer": []}, {"session": []}]),
        };
        op.insert("security".into(), security);
        op.insert(
            "responses".into(),
            json!({
                "200": {"description": "OK (JSON), or 303 to the next page for a form post"},
                "401": {"description": "not logged in"},
                "403": {"description": "role, token scope, CSRF token or NDA gate refuses"},
                "404": {"description": "no such object in the caller's scope"}
            }),
        );
        if let Some(obj) = path.as_object_mut() {
            obj.insert(route.method.to_ascii_lowercase(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "ir110 case-management server", "version": env!("CARGO_PKG_VERSION"),
            "description": "Every write accepts JSON or an HTML form. Browser sessions send the \
             session's CSRF token (form field `csrf` or header `X-CSRF-Token`); API tokens \
             (`Authorization: Bearer ir110_…`) need no CSRF token."},
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "ir110_session"}
        }},
        "paths": paths
    })
}

/// `GET /api/openapi.json`.
pub(crate) async fn document(State(_state): State<AppState>) -> Json<Value> {
    Json(build())
}
