#!/usr/bin/env bash
# The main job on the bundled sample: set up, then run ravenmigrate on fixtures/sample-3.5.ravendump
# (a small generated 3.5-style export): inspect it, load it into the embedded RavenDB 4.1 (started
# and left running, Studio URL printed; it waits for the indexes and says when the database is usable)
# and verify the load.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ravenmigrate inspect fixtures/sample-3.5.ravendump
mkdir -p build
.venv/bin/ravenmigrate load fixtures/sample-3.5.ravendump --database sample --report build/demo-load.json --wait-for-indexes
.venv/bin/ravenmigrate verify fixtures/sample-3.5.ravendump --database sample
