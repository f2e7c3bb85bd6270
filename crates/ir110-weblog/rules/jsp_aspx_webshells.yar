/*
  ir110 built-in rules: JSP and ASP.NET webshells. See php_webshells.yar for the meta fields.
*/

rule jsp_exec_request
{
  meta:
    id = "jsp.exec-request"
    kind = "webshell"
    severity = "critical"
    files = "jsp"
    description = "JSP runs a command from a request parameter"
    author = "ir110"
  strings:
    $exec = /(Runtime\.getRuntime\(\)\.exec|new\s+ProcessBuilder)\s*\(/
    $param = "request.getParameter"
  condition:
    all of them
}

rule jsp_class_loader
{
  meta:
    id = "jsp.class-loader"
    kind = "webshell"
    severity = "critical"
    files = "jsp"
    description = "JSP loads encrypted classes from the request (Behinder, Godzilla)"
    author = "ir110"
  strings:
    $loader = /defineClass|ClassLoader/
    $input = /request\.(getReader|getInputStream|getParameter)/
    $crypto = /Cipher|AES|base64/ nocase
  condition:
    all of them
}

rule aspx_eval_request
{
  meta:
    id = "aspx.eval-request"
    kind = "webshell"
    severity = "critical"
    files = "aspx"
    description = "ASPX evaluates request input (China Chopper)"
    author = "ir110"
  strings:
    $eval = /eval\s*\(\s*Request(\.Item)?\s*[\[\(]/ nocase
  condition:
    $eval
}

rule aspx_process_request
{
  meta:
    id = "aspx.process-request"
    kind = "webshell"
    severity = "critical"
    files = "aspx"
    description = "ASPX starts a process with request input"
    author = "ir110"
  strings:
    $process = /Process\.Start|ProcessStartInfo/ nocase
    $request = /Request(\.Form|\.QueryString|\.Item|\.Params)?\s*[\[\(]/ nocase
  condition:
    all of them
}

rule aspx_assembly_load
{
  meta:
    id = "aspx.assembly-load"
    kind = "webshell"
    severity = "critical"
    files = "aspx"
    description = "ASPX loads an assembly from the request"
    author = "ir110"
  strings:
    $load = /Assembly\.Load\s*\(/ nocase
    $request = "Request" nocase
  condition:
    all of them
}
