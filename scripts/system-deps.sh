#!/usr/bin/env bash
# Install the Debian packages the app needs: CJK fonts for PDFs, WeasyPrint's libraries, poppler for PDF checks.
# As root this installs what is missing; otherwise it names what is missing and how to install it.
# Set WITH_BROWSER=1 to add Debian's Chromium (browser tests), WITH_BENCH=1 to add wrk (bench/load.py).
set -euo pipefail
packages=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils)
if [ "${WITH_BROWSER:-0}" = "1" ]; then packages+=(chromium); fi
if [ "${WITH_BENCH:-0}" = "1" ]; then packages+=(wrk); fi  # bench/load.py's HTTP load generator
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ]; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
