#!/usr/bin/env bash
# The whole test suite on every supported runtime: installs what it needs, builds once, and runs
# every test with node:test on Node.js 22, 24 and 26 (the npm registry's `node@22`, `node@24` and
# `node@26` packages, which scripts/install-deps.sh puts in .runtimes/<line>/), whatever the
# machine's own node is. The last lines are the test runner's summary summed over the runs, so a
# reader of the tail sees every runtime's failures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run lint
npm run build
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if ((${#files[@]} == 0)); then echo "no test files found" >&2; exit 1; fi
# The tests that send UDP to a server (in process or started by test/helpers/peers.ts).
udp_files=(dist/test/server/{transports,robustness,rrl,serve,dnstap,observability,workers}.test.js)
runtimes=()
for line in 22 24 26; do runtimes+=("$(sh scripts/node.sh --which "$line")"); done
# TAP when the output is not a terminal (CI logs keep it), spec on a terminal.
reporter=tap
[ -t 1 ] && reporter=spec

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0
for i in "${!runtimes[@]}"; do
  rt=${runtimes[$i]}
  echo "# runtime: $rt $("$rt" --version)"
  # One file at a time: several files start real servers and time BGP convergence, and on a 2-core
  # machine running them side by side would measure the neighbours, not the code.
  set +e
  # Every server the tests start runs the native UDP path (it must have been built); then the tests
  # that speak UDP run again on node:dgram, the fallback.
  ANYCAST_DNS_UDP_IO=native "$rt" --test --test-reporter="$reporter" --test-concurrency=1 --test-timeout=300000 "${files[@]}" | tee "$logs/$i"
  code=${PIPESTATUS[0]}
  ANYCAST_DNS_UDP_IO=dgram "$rt" --test --test-reporter="$reporter" --test-concurrency=1 --test-timeout=300000 "${udp_files[@]}" | tee "$logs/$i-dgram"
  ((PIPESTATUS[0] == 0)) || code=1
  set -e
  echo "# runtime: $rt $("$rt" --version) exit $code"
  ((code == 0)) || status=1
done

# The runner ends with "# tests N", "# pass N", … (TAP) or "ℹ tests N" (spec, on a terminal).
summary() {
  awk '
    match($0, /^(# |ℹ )(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [0-9.]+$/) {
      split($0, f, " "); sum[f[2]] += f[3]; if (!(f[2] in seen)) { seen[f[2]] = 1; order[++n] = f[2] }
    }
    END { for (i = 1; i <= n; i++) printf "# %s %.15g\n", order[i], sum[order[i]] }
  ' "$@"
}
echo "# all runtimes (22, 24, 26):"
summary "$logs"/*
exit $status
