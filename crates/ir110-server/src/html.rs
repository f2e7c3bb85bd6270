//! Server-rendered HTML: the page layout (inline CSS, no external assets, no scripts), escaping,
//! and times shown in JST.

use std::fmt::Write as _;

use axum::response::Html;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Tokyo;
use ir110_model::{Lang, Message};
use ir110_store::{Role, User};

use crate::AppState;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A time in Japan Standard Time, `2026-11-26 15:04:05 JST` (stored UTC, shown JST).
pub(crate) fn jst(t: DateTime<Utc>) -> String {
    t.with_timezone(&Tokyo)
        .format("%Y-%m-%d %H:%M:%S JST")
        .to_string()
}

/// Today's date in Japan.
pub(crate) fn today_jst() -> NaiveDate {
    Utc::now().with_timezone(&Tokyo).date_naive()
}

const CSS: &str = "\
*{box-sizing:border-box}body{margin:0;font:15px/1.6 'Hiragino Sans','Noto Sans CJK JP','Yu Gothic',\
system-ui,sans-serif;color:#1c2430;background:#f4f6f9}header{background:#12315a;color:#fff;\
padding:.6rem 1.5rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}header a{color:#fff;\
text-decoration:none}header .brand{font-weight:700;font-size:1.05rem;margin-right:1rem}header nav{display:flex;\
gap:1rem;flex:1}header form{margin:0}header button{background:none;border:1px solid #fff8;color:#fff;\
padding:.15rem .6rem;border-radius:4px}main{max-width:1180px;margin:1.2rem auto;padding:0 1.2rem}\
h1{font-size:1.45rem;margin:.4rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem;border-left:4px solid #12315a;\
padding-left:.5rem}.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:1rem 1.2rem;\
margin-bottom:1rem}table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;\
padding:.45rem .6rem;border-bottom:1px solid #e6eaf0;vertical-align:top}td:first-child{white-space:nowrap}th{background:#eef2f7;font-weight:600;\
font-size:.9rem}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#66707c;\
font-size:.9rem}.badge{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.82rem;\
background:#e6eaf0}.sev-critical{background:#8b0000;color:#fff}.sev-high{background:#d9480f;color:#fff}\
.sev-medium{background:#f08c00;color:#fff}.sev-low{background:#1971c2;color:#fff}.sev-info{background:#adb5bd}\
.ok{background:#d3f9d8;color:#1b5e20}.warn{background:#fff3bf;color:#7a4f01}.bad{background:#ffe3e3;\
color:#a51111}form.inline{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end}label{display:block;\
font-size:.88rem;color:#44505c}input,select,textarea{font:inherit;padding:.3rem .45rem;border:1px solid #b8c2cc;\
border-radius:4px;background:#fff}textarea{width:100%;min-height:4rem}button{font:inherit;white-space:nowrap;padding:.35rem .9rem;\
border-radius:4px;border:1px solid #12315a;background:#12315a;color:#fff;cursor:pointer}\
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:1rem}.notice{padding:.7rem 1rem;\
border-radius:6px;margin-bottom:1rem}.pager{margin:.8rem 0;display:flex;gap:1rem}dl{display:grid;\
grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:#66707c}dd{margin:0}\
@media print{header,.noprint{display:none}body{background:#fff}main{margin:0;max-width:none}.card{border:none}}";

/// Renders pages for one request: language, the user (if any) and its CSRF token.
pub(crate) struct Ui<'a> {
    pub state: &'a AppState,
    pub lang: Lang,
    pub user: Option<&'a User>,
    pub csrf: &'a str,
}

impl Ui<'_> {
    /// A text of the catalogue, escaped.
    pub fn t(&self, key: &str) -> String {
        esc(&self.state.config.catalog.get(key, self.lang))
    }

    /// A message of the catalogue, escaped.
    pub fn msg(&self, message: &Message) -> String {
        esc(&self.state.config.catalog.render(message, self.lang))
    }

    /// The hidden CSRF field every form carries.
    pub fn csrf_field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            esc(self.csrf)
        )
    }

    /// A whole page around `body`.
    pub fn page(&self, title: &str, body: &str) -> Html<String> {
        let mut nav = String::new();
        if let Some(user) = self.user {
            let mut links = vec![
                ("/cases", "ui.nav.cases"),
                ("/clients", "ui.nav.clients"),
                ("/deadlines", "ui.nav.deadlines"),
            ];
            if user.role == Role::Admin {
                links.push(("/users", "ui.nav.users"));
                links.push(("/audit", "ui.nav.audit"));
            }
            links.push(("/account", "ui.nav.account"));
            let _ = write!(nav, "<nav>");
            for (href, key) in links {
                let _ = write!(nav, "<a href=\"{href}\">{}</a>", self.t(key));
            }
            let _ = write!(
                nav,
                "</nav><span class=\"muted\" style=\"color:#cfd8e3\">{} ({})</span>\
                 <form method=\"post\" action=\"/logout\">{}<button>{}</button></form>",
                esc(&user.name),
                self.t(&format!("ui.role.{}", user.role)),
                self.csrf_field(),
                self.t("ui.nav.logout")
            );
        } else {
            nav.push_str("<nav></nav>");
        }
        Html(format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{title} — ir110</title><style>{CSS}</style></head><body><header>\
             <a class=\"brand\" href=\"/\">{brand}</a>{nav}<span><a href=\"/lang/ja\">日本語</a> / \
             <a href=\"/lang/en\">English</a></span></header><main>{body}</main></body></html>",
            lang = self.lang.as_str(),
            title = esc(title),
            brand = self.t("ui.brand"),
        ))
    }
}
