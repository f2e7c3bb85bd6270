#!/usr/bin/env bash
# Fetches the benign files of the ransomware accuracy corpus that are not Debian packages:
# the python-docx 1.2.0 source distribution (MIT; its test files are real .docx, .png, .jpg,
# .gif, .tif, .bmp). Extracted under target/test-corpus/, never committed.
# Debian's files: apt-get install -y forensics-samples-files
set -euo pipefail
here="$(cd "$(dirname "$0")/../../.." && pwd)"
dest="$here/target/test-corpus"
if [ -d "$dest/python_docx-1.2.0" ]; then exit 0; fi
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: python-docx==1.2.0 -d "$tmp"
tar xzf "$tmp"/python_docx-1.2.0.tar.gz -C "$dest"
