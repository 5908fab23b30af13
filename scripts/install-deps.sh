#!/usr/bin/env bash
# Installs what the tests need: the Debian packages of the real peers (only those missing), the
# npm packages, and Node.js 24 for the suite's second run. Safe to run again; it changes nothing
# when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# g++, make and python3 build the native UDP path (native/udp.c) at `npm ci`.
DEBIAN_PACKAGES=(g++ make python3 bind9-dnsutils bind9-utils knot-dnsutils nsd knot bind9 exabgp bird2 dnsperf iproute2 ldnsutils rsync prometheus)

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

# The suite runs on Node.js 24 too (scripts/test.sh): the npm registry's `node` package carries the
# official binary, installed into .node24/ beside the checkout's own node_modules, only if missing.
NODE24=.node24/node_modules/.bin/node
if ! { [ -x "$NODE24" ] && "$NODE24" --version | grep -q '^v24\.'; }; then
  echo "install-deps: installing node@24 into .node24/"
  npm install --prefix .node24 --no-save --no-audit --no-fund node@24
  "$NODE24" --version | grep -q '^v24\.' || { echo "install-deps: .node24 has no Node.js 24 binary" >&2; exit 1; }
fi
