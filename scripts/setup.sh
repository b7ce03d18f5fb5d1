#!/usr/bin/env bash
# Set up everything on a fresh machine: a venv in .venv, the package with its native twins built
# in place, the test/bench/speed-up extras, and the embedded RavenDB 4.1 test server (cached
# under ~/.cache/ravenmigrate). Idempotent; safe to run again after pulling.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel cython
.venv/bin/python -m pip install -q -e '.[test,fast,bench]'
# Build the Cython twins next to the pure ones (an editable install does not rebuild them).
.venv/bin/python setup.py -q build_ext --inplace
.venv/bin/python -m ravenmigrate.server install
