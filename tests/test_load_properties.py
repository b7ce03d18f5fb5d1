"""Property tests of the loaders against the real RavenDB 4.1 server: seeded random 3.x exports
(``fixtures/generate.py``: documents, legacy attachments, deletions, revisions, indexes, identities
in random amounts) through a random transport with 1-4 streams and random operation limits; every
load must complete and ``verify`` must find the database equal to the source (bulk insert: only its
documented deviations). ``RAVENMIGRATE_LOAD_PROPERTY_RUNS`` (default 4) sets how many."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import pytest

from ravenmigrate import cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402

pytestmark = pytest.mark.server

RUNS = int(os.environ.get("RAVENMIGRATE_LOAD_PROPERTY_RUNS", "4"))


@pytest.mark.parametrize("seed", range(RUNS))
def test_random_exports_load_and_verify(ravendb, new_database, tmp_path, capsys, seed):
    rng = random.Random(seed)
    options = {"docs": rng.randrange(5, 120), "attachments": rng.randrange(0, 12),
               "attachment_bytes": rng.choice((0, 100, 5000, 70_000)), "deletions": rng.randrange(0, 8),
               "revisions": rng.randrange(0, 4), "hilo": rng.random() < 0.7, "system_docs": rng.random() < 0.5,
               "nested_metadata": rng.random() < 0.3, "unicode_ids": rng.random() < 0.5,
               "integer_identities": rng.random() < 0.3, "seed": seed, "level": 1}
    src = tmp_path / "random.ravendump"
    generate.generate(src, **options)
    transport = rng.choice(("import", "bulk-insert"))
    streams = rng.randrange(1, 5)
    limits = ["--operation-docs", str(rng.choice((1, 3, 17, 100, 20_000))),
              "--operation-mb", str(rng.choice((0.05, 1, 16)))]
    db = new_database("prop")
    report = tmp_path / "report.json"
    argv = ["load", str(src), "--url", ravendb.url, "-d", db, "--transport", transport, "--streams", str(streams),
            *limits, "-q", "--report", str(report)]
    rc = cli.main(argv)
    assert rc == 0, (options, argv, capsys.readouterr().err)
    assert json.loads(report.read_text())["status"] == "completed"
    capsys.readouterr()
    rc = cli.main(["verify", str(src), "--url", ravendb.url, "-d", db, "--transport", transport, "--json"])
    result = json.loads(capsys.readouterr().out)
    problems = {s: result[s] for s in ("documents", "attachments", "identities", "indexes")
                if isinstance(result.get(s), dict) and (result[s].get("missing") or result[s].get("different"))}
    assert rc == 0 and result["ok"], (options, argv, problems)
