#!/usr/bin/env bash
# Debian packages the tests use: headless Chromium for the dashboard test.
# Installed only where missing, so a developer's machine is left alone.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# LibreOffice turns synthetic .docx reports into PDFs; a CJK font makes their glyphs real (OCR twins).
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-zenhei)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing Debian packages: ${need[*]} (sudo apt-get install ${need[*]})" >&2
  fi
fi
