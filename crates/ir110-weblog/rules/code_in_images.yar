/*
  ir110 built-in rule: server or browser code hidden in image files (polyglot GIF/JPEG
  webshells, uploaded through image-only upload forms). See php_webshells.yar for the meta
  fields.
*/

rule image_code
{
  meta:
    id = "image.code"
    kind = "code-in-image"
    severity = "high"
    files = "image"
    description = "server or browser code inside an image file"
    author = "ir110"
  strings:
    $php_open = /<\?php/ nocase
    $php_echo = "<?="
    $eval = /\beval\s*\(/ nocase
    $b64 = /base64_decode\s*\(/ nocase
    $jsp = /<%@?\s*page/ nocase
    $script = /<script[\s>]/ nocase
  condition:
    any of them
}
