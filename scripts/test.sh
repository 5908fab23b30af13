#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, and runs every test with node:test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if ((${#files[@]} == 0)); then echo "no test files found" >&2; exit 1; fi
exec node --test --test-concurrency=2 --test-timeout=300000 "${files[@]}"
