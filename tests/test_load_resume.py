"""The server is SIGKILLed in the middle of a load of a generated dump of 30 000 documents (12
operations of 2 500 over 2 streams; killed once 4 are acknowledged); after a restart on the same data
directory and ports, ``load --resume`` completes and ``verify`` finds every document, none different,
and the document count equals the source count.

With 200 000 documents this test found the 4.1 parser's corruption of ``\\u`` escapes split by a
network read (one employee's ``\\u2028``); tests/test_escapes.py now splits such a document at every
offset, so the size here is only what makes the kill land mid-load."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ravenmigrate.server import EmbeddedServer
from ravenmigrate.sinks.server.checkpoint import Checkpoint
from ravenmigrate.sinks.server.client import RavenClient

pytestmark = [pytest.mark.server, pytest.mark.slow]
DOCS = 30_000
KILL_AFTER = 10_000  # acknowledged documents: 4 of the 12 operations

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import generate  # noqa: E402


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ravenmigrate", *args], capture_output=True, text=True)


def test_sigkill_mid_load_then_resume(tmp_path):
    dump = generate.generated("load-resume-30k.ravendump", docs=DOCS, hilo=False, system_docs=False, level=1)
    report = tmp_path / "load.json"
    checkpoint = tmp_path / "load.json.checkpoint"
    with EmbeddedServer(tmp_path / "server") as srv:
        args = ["load", str(dump), "--url", srv.url, "-d", "killed", "--create", "--transport", "bulk-insert",
                "--streams", "2", "--operation-docs", "2500", "--retry-for", "3", "--report", str(report)]
        proc = subprocess.Popen([sys.executable, "-m", "ravenmigrate", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            while not checkpoint.exists() or sum(Checkpoint.load(checkpoint).acked) < KILL_AFTER:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.05)
            srv.kill()
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 1, (out, err)
        assert "--resume" in err and str(checkpoint) in err
        acked = Checkpoint.load(checkpoint).acked
        assert KILL_AFTER <= sum(acked) < DOCS
        assert json.loads(report.read_text())["status"] == "failed"

        srv.restart()
        resumed = cli(*args, "--resume")
        assert resumed.returncode == 0, resumed.stderr
        rep = json.loads(report.read_text())
        assert rep["status"] == "completed" and rep["counts"]["already_acknowledged"] == sum(acked)
        assert rep["counts"]["documents_sent"] == DOCS - sum(acked)

        checked = cli("verify", str(dump), "--url", srv.url, "-d", "killed", "--transport", "bulk-insert", "--json")
        result = json.loads(checked.stdout)
        summary = {k: {c: v for c, v in s.items() if not c.endswith("_items") or v}
                   for k, s in result.items() if isinstance(s, dict)}
        if checked.returncode != 0:
            pytest.fail(f"verify exited {checked.returncode}: {json.dumps(summary, indent=1)[:20000]}")
        assert result["documents"]["missing"] == 0 and result["documents"]["different"] == 0
        assert result["documents"]["found"] == DOCS
        assert RavenClient(srv.url).stats("killed")["CountOfDocuments"] == DOCS
