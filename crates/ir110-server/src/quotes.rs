//! Quotes (見積書) from the price list: made per case, printable in Japanese or English.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use ir110_model::Lang;
use ir110_store::{NewQuote, Quote, QuoteLine};
use serde::Deserialize;

use crate::AppState;
use crate::audit::entry;
use crate::auth::Caller;
use crate::cases::{case_with_nda, refusal};
use crate::error::{ApiError, ApiResult};
use crate::html::{Ui, esc, jst};
use crate::input::{Done, Input};
use crate::prices::{PriceList, quote_totals, yen};

/// `GET /api/price-list`.
pub(crate) async fn price_list(State(state): State<AppState>, _caller: Caller) -> Json<PriceList> {
    Json(state.config.price_list.clone())
}

/// `GET /api/cases/{id}/quotes`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Quote>>> {
    case_with_nda(&state, &caller, id, "quotes").await?;
    Ok(Json(state.store.quotes_in_scope(&caller.scope, id).await?))
}

/// One requested line.
#[derive(Deserialize)]
pub(crate) struct LineIn {
    code: String,
    quantity: i64,
}

/// The quote form: JSON `lines`, or the form's parallel `code`/`quantity` fields.
#[derive(Deserialize)]
pub(crate) struct QuoteIn {
    #[serde(default)]
    lines: Vec<LineIn>,
    #[serde(default)]
    code: Vec<String>,
    #[serde(default)]
    quantity: Vec<i64>,
}

/// `POST /api/cases/{id}/quotes`: prices the lines from the price list (quantities 0 are
/// dropped) and adds 10 % tax.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<QuoteIn>,
) -> ApiResult<Done<Quote>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    // Scope only: the NDA gate is in the write's statement.
    let access = crate::cases::case_for(&state, &caller, id).await?;
    let v = &input.value;
    let requested: Vec<(&str, i64)> = v
        .lines
        .iter()
        .map(|l| (l.code.as_str(), l.quantity))
        .chain(
            v.code
                .iter()
                .map(String::as_str)
                .zip(v.quantity.iter().copied()),
        )
        .filter(|(_, q)| *q != 0)
        .collect();
    if requested.is_empty() {
        return Err(ApiError::Invalid(
            "a quote needs at least one line".to_owned(),
        ));
    }
    let list = &state.config.price_list;
    let mut lines = Vec::new();
    for (code, quantity) in requested {
        if !(1..=10_000).contains(&quantity) {
            return Err(ApiError::Invalid(format!(
                "quantity {quantity} for `{code}`"
            )));
        }
        let item = list
            .item(code)
            .ok_or_else(|| ApiError::Invalid(format!("no price-list item `{code}`")))?;
        let amount = item
            .price
            .checked_mul(quantity)
            .ok_or_else(|| ApiError::Invalid("amount too large".to_owned()))?;
        lines.push(QuoteLine {
            code: item.code.clone(),
            name: [item.ja.clone(), item.en.clone()],
            unit: [item.unit.ja.clone(), item.unit.en.clone()],
            unit_price: item.price,
            quantity,
            amount,
        });
    }
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount).collect();
    let totals = quote_totals(&amounts, list.tax_rate_percent)
        .ok_or_else(|| ApiError::Invalid("amount too large".to_owned()))?;
    let mut tx = state.store.begin().await?;
    let done = tx
        .create_quote(
            &caller.scope,
            id,
            &NewQuote {
                lines,
                subtotal: totals.subtotal,
                tax: totals.tax,
                total: totals.total,
                created_by: caller.user.name.clone(),
            },
        )
        .await?;
    let Some(quote) = done else {
        return Err(refusal(&state, &caller, tx, id, "quotes").await);
    };
    tx.audit(&entry(
        &caller.user.name,
        "quote.create",
        format!("quote:{}", quote.id),
        (Some(access.case.client_id), Some(id)),
        serde_json::json!({"total": quote.quote.total, "lines": quote.quote.lines.len()}),
    ))
    .await?;
    tx.commit().await?;
    let to = format!("/quotes/{}", quote.id);
    Ok(Done::new(&input, StatusCode::CREATED, quote, to))
}

async fn quote_for(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Quote> {
    let quote = state
        .store
        .quote_in_scope(&caller.scope, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    case_with_nda(state, caller, quote.case_id, "quotes").await?;
    Ok(quote)
}

/// `GET /api/quotes/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Quote>> {
    Ok(Json(quote_for(&state, &caller, id).await?))
}

/// The quotes section of the case page: existing quotes and the form over the price list.
pub(crate) async fn case_section(
    state: &AppState,
    ui: &Ui<'_>,
    caller: &Caller,
    case_id: i64,
    writer: bool,
) -> ApiResult<String> {
    let quotes = state.store.quotes_in_scope(&caller.scope, case_id).await?;
    let i = usize::from(ui.lang == Lang::En);
    let mut out = format!("<h2>{}</h2><ul>", ui.t("ui.quote.title"));
    for q in &quotes {
        let _ = write!(
            out,
            "<li><a href=\"/quotes/{}\">{} #{}</a> — ¥{} ({}) {}</li>",
            q.id,
            ui.t("ui.quote.one"),
            q.id,
            yen(q.quote.total),
            ui.t("ui.quote.tax-included"),
            jst(q.created_at)
        );
    }
    out.push_str("</ul>");
    if writer {
        let _ = write!(
            out,
            "<details class=\"noprint\"><summary>{}</summary><form method=\"post\" \
             action=\"/api/cases/{case_id}/quotes\">{}<table><tr><th>{}</th><th class=\"num\">{}</th>\
             <th>{}</th><th>{}</th></tr>",
            ui.t("ui.quote.new"),
            ui.csrf_field(),
            ui.t("ui.quote.item"),
            ui.t("ui.quote.unit-price"),
            ui.t("ui.quote.unit"),
            ui.t("ui.quote.quantity"),
        );
        for item in &state.config.price_list.items {
            let name = if i == 0 { &item.ja } else { &item.en };
            let unit = if i == 0 { &item.unit.ja } else { &item.unit.en };
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">¥{}</td><td>{}</td><td>\
                 <input type=\"hidden\" name=\"code\" value=\"{}\">\
                 <input type=\"number\" name=\"quantity\" value=\"0\" min=\"0\" max=\"10000\" style=\"width:5rem\"></td></tr>",
                esc(name),
                yen(item.price),
                esc(unit),
                esc(&item.code),
            );
        }
        let _ = write!(
            out,
            "</table><p class=\"muted\">{}</p><button>{}</button></form></details>",
            ui.t("ui.quote.placeholder-note"),
            ui.t("ui.quote.create")
        );
    }
    Ok(out)
}

#[derive(Deserialize)]
pub(crate) struct PrintQuery {
    /// Language of the printed quote (default: the user's).
    lang: Option<Lang>,
}

/// `GET /quotes/{id}`: the printable quote (`?lang=ja|en`).
pub(crate) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<PrintQuery>,
) -> ApiResult<Html<String>> {
    let quote = quote_for(&state, &caller, id).await?;
    let access = crate::cases::case_for(&state, &caller, quote.case_id).await?;
    let lang = q.lang.unwrap_or(caller.lang);
    let ui = Ui {
        state: &state,
        lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let i = usize::from(lang == Lang::En);
    let mut body = format!(
        "<div class=\"card\"><p class=\"noprint\"><a href=\"/quotes/{id}?lang=ja\">日本語</a> / \
         <a href=\"/quotes/{id}?lang=en\">English</a> · <a href=\"/cases/{case}\">←</a></p>\
         <h1 style=\"text-align:center;letter-spacing:.3em\">{title}</h1>\
         <div style=\"display:flex;justify-content:space-between;gap:2rem\">\
         <p style=\"font-size:1.15rem\"><b>{client}</b> {honorific}</p>\
         <p style=\"text-align:right\">{issuer}</p></div>\
         <dl><dt>{no_l}</dt><dd>Q-{id:06}</dd><dt>{date_l}</dt><dd>{date}</dd><dt>{case_l}</dt>\
         <dd>{reference} {case_title}</dd></dl>\
         <p style=\"font-size:1.3rem\">{total_l}: <b>¥{total}</b> ({tax_incl})</p>\
         <table><tr><th>{item_l}</th><th class=\"num\">{qty_l}</th><th>{unit_l}</th><th class=\"num\">{price_l}</th><th class=\"num\">{amount_l}</th></tr>",
        case = quote.case_id,
        title = ui.t("ui.quote.document"),
        client = esc(&access.case.client_name),
        honorific = ui.t("ui.quote.honorific"),
        issuer = state
            .config
            .price_list
            .issuer
            .as_ref()
            .map(|i| format!(
                "{}<br><span class=\"muted\">{} {}</span>",
                esc(if lang == Lang::En { &i.en } else { &i.ja }),
                ui.t("ui.quote.registration"),
                esc(&i.registration)
            ))
            .unwrap_or_default(),
        no_l = ui.t("ui.quote.number"),
        date_l = ui.t("ui.quote.date"),
        date = jst(quote.created_at).get(..10).unwrap_or_default(),
        case_l = ui.t("ui.case.reference"),
        reference = esc(&access.case.reference),
        case_title = esc(&access.case.title),
        total_l = ui.t("ui.quote.total"),
        total = yen(quote.quote.total),
        tax_incl = ui.t("ui.quote.tax-included"),
        item_l = ui.t("ui.quote.item"),
        qty_l = ui.t("ui.quote.quantity"),
        unit_l = ui.t("ui.quote.unit"),
        price_l = ui.t("ui.quote.unit-price"),
        amount_l = ui.t("ui.quote.amount"),
    );
    for l in &quote.quote.lines {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">¥{}</td><td class=\"num\">¥{}</td></tr>",
            esc(&l.name[i]),
            l.quantity,
            esc(&l.unit[i]),
            yen(l.unit_price),
            yen(l.amount)
        );
    }
    let _ = write!(
        body,
        "<tr><td colspan=\"4\" class=\"num\">{}</td><td class=\"num\">¥{}</td></tr>\
         <tr><td colspan=\"4\" class=\"num\">{} ({}%)</td><td class=\"num\">¥{}</td></tr>\
         <tr><th colspan=\"4\" class=\"num\">{}</th><th class=\"num\">¥{}</th></tr></table>\
         <p class=\"muted\">{}</p></div>",
        ui.t("ui.quote.subtotal"),
        yen(quote.quote.subtotal),
        ui.t("ui.quote.tax"),
        state.config.price_list.tax_rate_percent,
        yen(quote.quote.tax),
        ui.t("ui.quote.total"),
        yen(quote.quote.total),
        ui.t("ui.quote.rounding"),
    );
    Ok(ui.page(&format!("Q-{id:06}"), &body))
}
