#!/usr/bin/env bash
# Installs this checkout as a POP's anycast-dns: what the systemd units and exabgp.conf in deploy/ name.
#
#   scripts/install.sh [--root DIR]      (DESTDIR=DIR works too; default: the running system, /)
#
#   /usr/bin/anycast-dns                 a wrapper: exec <node> --max-semi-space-size=1 --no-memory-reducer <this checkout>/dist/src/cli.js "$@"
#                                        (<node>: scripts/node.sh's, the machine's if 22.12+, else the checkout's own)
#   user and group anycast-dns           a system user (systemd-sysusers, usr/lib/sysusers.d/anycast-dns.conf)
#   /etc/anycast-dns/anycast-dns.yaml    from config/anycast-dns.yaml, zones: /etc/anycast-dns/zones (kept if present)
#   /etc/anycast-dns/zones/              the zones directory (empty; put <origin>.zone files here)
#   /etc/anycast-dns/exabgp.conf, .env   ExaBGP's template and environment (kept if present)
#   /etc/systemd/system/anycast-dns.service, exabgp.service   the units (replaced)
#   /usr/share/doc/anycast-dns/deploy/   deploy/: README, dashboard, alert rules
#   /usr/share/man/man1/anycast-dns.1.gz, man5/anycast-dns.yaml.5.gz   the man pages the unit names
#                                        (gzip'd when gzip is there, else as they are)
#
# Build first (npm run build). Safe to run again: the config files an operator edits are never replaced.
# With --root the tree is made under DIR (for packaging, or for `systemd-analyze verify --root=DIR`);
# the wrapper still runs this checkout and the node found now.
set -euo pipefail

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

ROOT="${DESTDIR:-}"
while (($#)); do
  case "$1" in
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --root=*) ROOT="${1#--root=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install: unexpected argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
ROOT="${ROOT%/}"
[ -z "$ROOT" ] || { mkdir -p "$ROOT"; ROOT="$(cd "$ROOT" && pwd)"; }

CHECKOUT="$(cd "$(dirname "$0")/.." && pwd)"
CLI="$CHECKOUT/dist/src/cli.js"
[ -f "$CLI" ] || { echo "install: $CLI is missing: run npm run build first" >&2; exit 1; }
NODE="$(sh "$CHECKOUT/scripts/node.sh" --which)" || exit 1
NODE="$(readlink -f "$NODE")"
ETC="$ROOT/etc/anycast-dns"

say() { echo "install: $*"; }

# The binary the units and exabgp.conf run.
install -d -m 0755 "$ROOT/usr/bin"
cat > "$ROOT/usr/bin/anycast-dns.new" <<EOF
#!/bin/sh
# anycast-dns, installed by scripts/install.sh from $CHECKOUT
exec $NODE --max-semi-space-size=1 --no-memory-reducer $CLI "\$@"
EOF
chmod 0755 "$ROOT/usr/bin/anycast-dns.new"
mv -f "$ROOT/usr/bin/anycast-dns.new" "$ROOT/usr/bin/anycast-dns"
say "/usr/bin/anycast-dns runs $NODE --max-semi-space-size=1 --no-memory-reducer $CLI"

# The user, declared the systemd way so the same file works in a scratch root and on the host.
install -d -m 0755 "$ROOT/usr/lib/sysusers.d" "$ROOT/etc"
printf 'u anycast-dns - "anycast-dns authoritative DNS server" /nonexistent /usr/sbin/nologin\n' > "$ROOT/usr/lib/sysusers.d/anycast-dns.conf"
if [ -z "$ROOT" ]; then systemd-sysusers anycast-dns.conf; else systemd-sysusers --root="$ROOT" anycast-dns.conf; fi
GID="$(awk -F: '$1 == "anycast-dns" { print $3 }' "$ROOT/etc/group")"
[ -n "$GID" ] || { echo "install: group anycast-dns was not created" >&2; exit 1; }
say "user and group anycast-dns (gid $GID)"
# The health sidecar runs as ExaBGP's user and reads the same config file, which may hold the cookie secret.
if [ -z "$ROOT" ] && id exabgp >/dev/null 2>&1 && ! id -nG exabgp | tr ' ' '\n' | grep -qx anycast-dns; then
  usermod -a -G anycast-dns exabgp
  say "user exabgp added to group anycast-dns (to read the config)"
fi

# Config and zones: created once, never overwritten.
install -d -m 0755 "$ETC" "$ETC/zones"
if [ ! -e "$ETC/anycast-dns.yaml" ]; then
  sed -e 's|^zones: .*|zones: /etc/anycast-dns/zones|' "$CHECKOUT/config/anycast-dns.yaml" > "$ETC/anycast-dns.yaml"
  chmod 0640 "$ETC/anycast-dns.yaml"
  if [ "$(id -u)" -eq 0 ]; then chown "0:$GID" "$ETC/anycast-dns.yaml"; else say "not root: chgrp anycast-dns $ETC/anycast-dns.yaml yourself"; fi
  say "/etc/anycast-dns/anycast-dns.yaml written (edit identity, listen, health)"
else
  say "/etc/anycast-dns/anycast-dns.yaml exists, kept"
fi
for f in exabgp.conf exabgp.env; do
  if [ ! -e "$ETC/$f" ]; then install -m 0644 "$CHECKOUT/deploy/$f" "$ETC/$f"; say "/etc/anycast-dns/$f written"; else say "/etc/anycast-dns/$f exists, kept"; fi
done

# Units (ours: replaced) and the documentation they point to.
install -d -m 0755 "$ROOT/etc/systemd/system" "$ROOT/usr/share/doc/anycast-dns/deploy"
install -m 0644 "$CHECKOUT/deploy/anycast-dns.service" "$CHECKOUT/deploy/exabgp.service" "$ROOT/etc/systemd/system/"
cp -R "$CHECKOUT/deploy/." "$ROOT/usr/share/doc/anycast-dns/deploy/"
say "units in /etc/systemd/system, documentation in /usr/share/doc/anycast-dns/deploy"

# The man pages (the unit's Documentation=man:...), compressed as Debian ships them when gzip is there.
for page in anycast-dns.1 anycast-dns.yaml.5; do
  dir="$ROOT/usr/share/man/man${page##*.}"
  install -d -m 0755 "$dir"
  rm -f "$dir/$page" "$dir/$page.gz"
  if command -v gzip >/dev/null 2>&1; then
    gzip -9n -c "$CHECKOUT/docs/man/$page" > "$dir/$page.gz"
    chmod 0644 "$dir/$page.gz"
  else
    install -m 0644 "$CHECKOUT/docs/man/$page" "$dir/$page"
  fi
done
say "man pages anycast-dns(1) and anycast-dns.yaml(5) in /usr/share/man"

if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  say "next: edit /etc/anycast-dns/*, put zones in /etc/anycast-dns/zones, then: systemctl enable --now anycast-dns exabgp"
fi
