#!/usr/bin/env bash
# Set up everything on a fresh machine: a venv in .venv, the package with its native twins built
# in place, the test/bench/speed-up extras, and the embedded RavenDB 4.1 test server (cached
# under ~/.cache/ravenmigrate). Idempotent; safe to run again after pulling.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Run a step quietly; show its output only when it fails.
step() {
  if ! "$@" >"$log" 2>&1; then
    grep -v '^WARNING: Location' "$log" >&2
    echo "setup: failed: $*" >&2
    exit 1
  fi
}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
step .venv/bin/python -m pip install -q --upgrade pip setuptools wheel cython
# The editable install must not compile the twins; they are built once, in place, just below.
step env RAVENMIGRATE_PUREPYTHON=1 .venv/bin/python -m pip install -q -e '.[test,fast,bench,transform,windows]'
# A failed native build is not fatal (the pure twins take over); say so loudly.
if ! .venv/bin/python setup.py -q build_ext --inplace -j 2 >"$log" 2>&1 || ! ls src/ravenmigrate/_native/*.so >/dev/null 2>&1; then
  tail -20 "$log" >&2
  echo "setup: native twins not built; the pure-Python twins will be used" >&2
fi
# Bytecode as a regular install has it (PYTHONDONTWRITEBYTECODE=1 would otherwise leave every run
# compiling every module: about 55 ms of each command's start-up).
step .venv/bin/python -m compileall -q src
step .venv/bin/python -m ravenmigrate.server install
echo "setup: ready ($(ls src/ravenmigrate/_native/*.so 2>/dev/null | wc -l) native twins built; RavenDB 4.1 in ~/.cache/ravenmigrate)"
