#!/usr/bin/env bash
# The main job on the bundled sample: set up, then run ravenmigrate on fixtures/sample-3.5.ravendump
# (a small generated 3.5-style export).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ravenmigrate inspect fixtures/sample-3.5.ravendump
