#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, and runs every test with node:test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if ((${#files[@]} == 0)); then echo "no test files found" >&2; exit 1; fi
# One file at a time: several files start real servers and time BGP convergence, and on a 2-core
# machine running them side by side would measure the neighbours, not the code.
exec node --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"
