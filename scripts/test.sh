#!/usr/bin/env bash
# The test command: set up, lint, then the whole suite twice - with the native twins and with
# RAVENMIGRATE_PUREPYTHON=1 - against a real RavenDB 4.1 server the tests start themselves.
# --twin-pass: a test with a pure and a native variant (marked twin_pinned, tests/twins.py) runs its
# native variant in the native pass and its pure one in the pure pass, each once (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks fixtures scripts
run_pytest() {
  set +e
  .venv/bin/python -m pytest "$@"
  rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then echo "pytest collected no tests" >&2; return 1; fi
  return "$rc"
}
echo "== native twins =="
run_pytest -q --durations=15 --twin-pass "$@"
echo "== pure-Python twins (RAVENMIGRATE_PUREPYTHON=1) =="
RAVENMIGRATE_PUREPYTHON=1 run_pytest -q -m "not slow" --twin-pass "$@"
