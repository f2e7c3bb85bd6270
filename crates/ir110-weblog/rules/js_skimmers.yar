/*
  ir110 built-in rules: JavaScript card skimmers, form grabbers and obfuscated loaders in
  scripts and pages (since April 2024 a skimming leak is reportable under APPI even when the
  site stores no card data). See php_webshells.yar for the meta fields.
*/

rule js_card_skimmer
{
  meta:
    id = "js.card-skimmer"
    kind = "skimmer"
    severity = "critical"
    files = "js,html,php"
    foreign_url = true
    description = "payment-card fields sent to a foreign domain"
    author = "ir110"
  strings:
    $field = /(cc_?num|card_?number|cardnumber|cc-number|cvv|cvc|cc_?exp|card_?exp|securitycode|security_code|kartennummer)/ nocase
    $send = /(new\s+Image\s*\(\s*\)|navigator\.sendBeacon\s*\(|XMLHttpRequest|fetch\s*\(|\.ajax\s*\(|new\s+WebSocket\s*\()/ nocase
  condition:
    all of them
}

rule js_form_grabber
{
  meta:
    id = "js.form-grabber"
    kind = "skimmer"
    severity = "critical"
    files = "js,html,php"
    foreign_url = true
    description = "form contents collected and sent to a foreign domain"
    author = "ir110"
  strings:
    $collect = /(querySelectorAll\s*\(\s*["'](input|form|select|textarea)|document\.forms|getElementsByTagName\s*\(\s*["']input)/ nocase
    $hook = /(addEventListener\s*\(\s*["'](submit|click|change|blur)|onsubmit)/ nocase
    $send = /(new\s+Image\s*\(\s*\)|navigator\.sendBeacon\s*\(|XMLHttpRequest|fetch\s*\(|new\s+WebSocket\s*\()/ nocase
    $encode = /(btoa\s*\(|JSON\.stringify|encodeURIComponent)/ nocase
  condition:
    all of them
}

rule js_obfuscated_loader
{
  meta:
    id = "js.obfuscated-loader"
    kind = "obfuscation"
    severity = "high"
    files = "js,html,php"
    description = "script decoded and run at load time"
    author = "ir110"
  strings:
    $eval_decoded = /eval\s*\(\s*(atob|unescape|String\.fromCharCode|decodeURIComponent)\s*\(/ nocase
    $write_unescape = /document\.write\s*\(\s*unescape\s*\(/ nocase
    $hex_run = /(\\x[0-9a-fA-F]{2}){60,}/
  condition:
    any of them
}

rule js_encoded_url_loader
{
  meta:
    id = "js.encoded-url-loader"
    kind = "obfuscation"
    severity = "high"
    files = "js,html"
    description = "a URL hidden in base64 (atob(\"aHR0c…\")) and loaded or posted to, as Magecart loaders do"
    author = "ir110"
  strings:
    $atob_url = /atob\s*\(\s*["']aHR0c[A-Za-z0-9+\/=]{8,}["']\s*\)/
    $use = /(createElement\s*\(\s*["']script|\.src\s*=|fetch\s*\(|sendBeacon|XMLHttpRequest|new\s+WebSocket)/ nocase
  condition:
    all of them
}
