#!/usr/bin/env bash
# Debian packages the test suite needs. Idempotent; installs only what is missing.
#   util-linux            setpriv: run the CLI as an unprivileged user to test unreadable files
#   chromium nodejs npm   the ir110-server browser test (headless chromium driven by playwright-core)
#   forensics-samples-files  real benign files for the ransomware scanner's exact-verdict corpus
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
dpkg -s forensics-samples-files >/dev/null 2>&1 || need+=(forensics-samples-files)
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "packages.sh: missing ${need[*]}; install them (apt-get install ${need[*]})" >&2
        exit 1
    fi
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi
