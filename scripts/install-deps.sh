#!/usr/bin/env bash
# Installs what the tests need: the Debian packages of the real peers (only those missing), the
# npm packages, and the Node.js lines the suite runs on (22, 24, 26). Safe to run again; it changes
# nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# g++, make and python3 build the native UDP path (native/udp.c) at `npm ci`; man-db lets the units'
# Documentation=man: pages be checked; chromium runs the lab's web view test (driven by playwright-core);
# knot-module-geoip is Knot's geoip module, the reference for geo rules.
DEBIAN_PACKAGES=(g++ make python3 bind9-dnsutils bind9-utils knot-dnsutils nsd knot knot-module-geoip bind9 exabgp bird2 dnsperf iproute2 ldnsutils rsync prometheus man-db chromium)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The packages start their daemons on some systems; the tests start their own on loopback ports
# and never need the system ones.
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

# The suite runs on every supported line (scripts/test.sh): the npm registry's `node@22`, `node@24` and
# `node@26` packages carry the official binaries, each installed into .runtimes/<line>/ only if missing.
sh scripts/node.sh --install 22 24 26
