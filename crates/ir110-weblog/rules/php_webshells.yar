/*
  ir110 built-in rules: PHP webshells, droppers and obfuscation.

  Written for ir110 (Apache-2.0), describing behaviour rather than hashes of samples, so
  renamed or lightly edited shells still match. Plain YARA: they also run under `yara` 4.x
  and `yr` (used for the benchmark in BENCHMARKS.md).

  Meta fields read by ir110 (user rules may set them too; all optional):
    id          stable id shown in findings (default: <file stem>.<rule identifier>)
    kind        webshell | obfuscation | skimmer | code-in-image | dropper
    severity    critical | high | medium | low   (or `score` 0-100 as in LOKI/THOR rules)
    files       comma-separated file classes the rule applies to:
                php, jsp, aspx, js, html, image, any (default any)
    foreign_url true: only counts when the file also names a domain outside the site and the
                allowlist (decided in Rust, not expressible in YARA)
  The line cited is that of the first match of the first string that matched.
*/

rule php_eval_decoded
{
  meta:
    id = "php.eval-decoded"
    kind = "webshell"
    severity = "critical"
    files = "php"
    description = "eval/assert of decoded data"
    author = "ir110"
  strings:
    $eval = /\b(eval|assert)\s*\(\s*@?\s*(base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|hex2bin|convert_uudecode|rawurldecode)\s*\(/ nocase
  condition:
    $eval
}

rule php_eval_request
{
  meta:
    id = "php.eval-request"
    kind = "webshell"
    severity = "critical"
    files = "php"
    description = "eval of request input"
    author = "ir110"
  strings:
    $eval = /\b(eval|assert|create_function)\s*\([^;]{0,120}\$_(GET|POST|REQUEST|COOKIE|SERVER)\b/ nocase
  condition:
    $eval
}

rule php_exec_request
{
  meta:
    id = "php.exec-request"
    kind = "webshell"
    severity = "critical"
    files = "php"
    description = "OS command from request input"
    author = "ir110"
  strings:
    $call = /\b(system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec)\s*\([^;]{0,120}\$_(GET|POST|REQUEST|COOKIE|SERVER)\b/ nocase
    $backtick = /`[^`]{0,40}\$_(GET|POST|REQUEST)\b/ nocase
  condition:
    any of them
}

rule php_dynamic_call_request
{
  meta:
    id = "php.dynamic-call-request"
    kind = "webshell"
    severity = "critical"
    files = "php"
    description = "function named by request input is called"
    author = "ir110"
  strings:
    $call = /\$_(GET|POST|REQUEST|COOKIE)\s*\[[^\]]{1,40}\]\s*\(/ nocase
  condition:
    $call
}

rule php_preg_replace_e
{
  meta:
    id = "php.preg-replace-e"
    kind = "webshell"
    severity = "critical"
    files = "php"
    description = "preg_replace with the /e (evaluate) modifier"
    author = "ir110"
  strings:
    $e = /preg_replace\s*\(\s*['"][\/#~@|!%][^'"]*[\/#~@|!%][imsxuADSUXJ]*e[imsxuADSUXJ]*['"]/ nocase
  condition:
    $e
}

rule php_shell_markers
{
  meta:
    id = "php.shell-markers"
    kind = "webshell"
    severity = "critical"
    files = "php"
    description = "strings of known webshells"
    author = "ir110"
  strings:
    $filesman = "FilesMan"
    $b374k = "b374k"
    $r57 = "r57shell"
    $c99 = "c99shell"
    $indoxploit = "IndoXploit"
    $wso = /wso\s?shell/ nocase
    $auth_pass = /\$auth_pass\s*=/
    $title = /<title>[^<]{0,80}(shell|bypass)[^<]{0,80}<\/title>/ nocase
  condition:
    any of them
}

rule php_variable_obfuscation
{
  meta:
    id = "php.variable-obfuscation"
    kind = "obfuscation"
    severity = "high"
    files = "php"
    description = "names hidden by hex escapes, string splitting or chr() chains"
    author = "ir110"
  strings:
    $hex_var = /\$\{\s*["']\\x[0-9a-fA-F]{2}/
    $hex_globals = /\$GLOBALS\s*\[\s*["']\\x[0-9a-fA-F]{2}/
    $split_base64 = /["']ba["']\s*\.\s*["']se6/ nocase
    $replace_base64 = /str_replace\s*\(\s*["'][^"']{1,8}["']\s*,\s*["']["']\s*,\s*["']b[^"']{0,20}a[^"']{0,20}s[^"']{0,20}e[^"']{0,20}6[^"']{0,20}4/ nocase
    $chr_chain = /\bchr\s*\(\s*\d+\s*\)\s*\.\s*chr\s*\(\s*\d+\s*\)\s*\.\s*chr\s*\(/ nocase
  condition:
    any of them
}

rule php_request_to_file
{
  meta:
    id = "php.request-to-file"
    kind = "dropper"
    severity = "high"
    files = "php"
    description = "request input written to a file"
    author = "ir110"
  strings:
    $write = /\b(file_put_contents|fwrite|fputs)\s*\([^;]{0,160}\$_(GET|POST|REQUEST|COOKIE)\b/ nocase
  condition:
    $write
}

rule php_remote_include
{
  meta:
    id = "php.remote-include"
    kind = "webshell"
    severity = "high"
    files = "php"
    description = "code included from a URL, php://input or data: (remote-include backdoor)"
    author = "ir110"
  strings:
    $url = /\b(include|require)(_once)?\s*\(?\s*["'](https?|ftp|data|php):\/\// nocase
    $input = /\b(eval|assert|include|require)(_once)?\s*\(?[^;]{0,40}php:\/\/input/ nocase
  condition:
    any of them
}
