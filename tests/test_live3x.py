"""Live import from a running 3.x server (docs/live3x.md), against tests/emulator3x.py.

No 3.x server runs on Linux: the emulator serves a real 3.x dump as a 3.x database with the
3.x controllers' endpoints, formats and authentication, built from the public 3.x source.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import real
from differential import run
from test_differential import _check

from ravenmigrate.sinks.server.checkpoint import Checkpoint
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sinks.server.loader import Loader, LoadOptions
from ravenmigrate.sources import open_source
from ravenmigrate.sources.live3x.client import LiveClient, LiveError, LiveOptions
from ravenmigrate.sources.live3x.export import Etags, request_body

pytestmark = pytest.mark.server
EMULATOR = Path(__file__).resolve().parent / "emulator3x.py"
NORTHWIND = "Northwind_3.5.35168.ravendump"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """``python tests/emulator3x.py SRC --port P ...`` as a subprocess."""

    def __init__(self, source: Path, *args: str, port: int | None = None) -> None:
        self.source, self.args = source, args
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def server(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.server}/databases/db"

    def start(self) -> Emulator:
        self.proc = subprocess.Popen([sys.executable, str(EMULATOR), str(self.source), "--port", str(self.port),
                                      *self.args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("emulator3x:"), (line, self.proc.stderr.read() if self.proc.poll() is not None else "")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def state(self) -> dict:
        with urllib.request.urlopen(f"{self.server}/__emulator/state") as r:
            return json.loads(r.read())

    def batch(self, commands: list[dict]) -> list[dict]:
        """Change the data through the 3.x batch endpoint (``bulk_docs``)."""
        req = urllib.request.Request(f"{self.url}/bulk_docs", data=json.dumps(commands).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()


def export_bytes(url: str, options: LiveOptions | None = None) -> bytes:
    """The export body exactly as Migrator_V3 requests it (what the 4.x server would import)."""
    from ravenmigrate.sources.live3x.export import build_version, next_operation_id
    from ravenmigrate.sources.live3x.url import parse

    u = parse(url)
    client = LiveClient(u.server, options)
    build = build_version(client)
    body = request_body(build, Etags(), False, next_operation_id(client, u))
    resp = client.ok("POST", u.path("studio-tasks/exportDatabase"), body, {"Content-Type": "application/json"})
    try:
        return resp.read()
    finally:
        resp.close()


def live_load(url: str, ravendb_url: str, database: str, tmp: Path, **options) -> dict:
    source_options = options.pop("source_options", {})
    opts = LoadOptions(ravendb_url, database, checkpoint=tmp / f"{database}.checkpoint", progress=False,
                       source_options=source_options, **options)
    return Loader(url, opts, log=lambda _m: None).run()


def verify_live(url: str, ravendb_url: str, database: str, **source_options) -> dict:
    from ravenmigrate.verify.documents import verify

    return verify(url, ravendb_url, database, **source_options)


# -- the differential proof: a live load equals the server's own import of what the server exports ----
# The dumps of tests/test_differential.py (658 indexes of Indexes_And_Transformers_3.5 are left out there too).
LIVE_DUMPS = [NORTHWIND, "Revisions_3.5.35220.ravendump", "Periodic_full_3.5.ravendump",
              pytest.param("Northwind_2.5.dump", marks=pytest.mark.slow),
              pytest.param("Sandbox_2.0.ravendump", marks=pytest.mark.slow),
              pytest.param("MvcMusicStore_2.0.json", marks=pytest.mark.slow),
              pytest.param("northwind.voron.3528.zip", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", LIVE_DUMPS)
def test_live_load_matches_server_import(ravendb, new_database, tmp_path, name):
    """A: the 4.x server imports the export stream the 3.x server sends (what Migrator_V3 feeds its
    import); B: ``load http://.../databases/db``. Same database, or a difference documented in
    docs/deviations.md; then ``verify`` against the live source finds nothing missing or different."""
    db_a, db_b = new_database("a"), new_database("b")
    with Emulator(real(name)) as emu:
        stream = tmp_path / "export.ravendump"
        stream.write_bytes(export_bytes(emu.url))
        with RavenClient(ravendb.url, timeout=900) as client:
            outcome = run(client, db_a, db_b, stream, open_source(stream).records(),
                          load_b=lambda db: live_load(emu.url, ravendb.url, db, tmp_path))
        _check(outcome, f"{name} [live]")
        report = verify_live(emu.url, ravendb.url, db_b)
        assert report["ok"], json.dumps(report, default=str)[:3000]


# -- the export request: 3.0 and 3.5 bodies, operation state from build 35215 ------------------------
@pytest.mark.parametrize("build,body_key,polled", [(3690, "SmugglerOptions", False), (35200, "DownloadOptions", False),
                                                   (35261, "DownloadOptions", True)])
def test_export_request_per_build(build, body_key, polled):
    with Emulator(real("Periodic_full_3.5.ravendump"), "--build", str(build)) as emu:
        src = open_source(emu.url)
        records = list(src.records())
        assert sum(1 for r in records if type(r).__name__ == "Document") == 12
        request = emu.state()["exports"][0]["request"]
        assert set(request) == ({"SmugglerOptions"} if body_key == "SmugglerOptions"
                                else {"DownloadOptions", "ProgressTaskId"})
        options = json.loads(request[body_key])
        assert options["OperateOnTypes"] == 7 and options["BatchSize"] == 1024 and options["ExportDeletions"] is False
        stats = emu.state()["stats"]
        assert src.last_state.docs == stats["LastDocEtag"]
        assert src.last_state.attachments == stats["LastAttachmentEtag"]
        if not polled:  # Migrator_V3's GenerateLastEtagsInfo: deletion etags from the last etags seen
            assert src.last_state.doc_deletes == src.last_state.docs
        else:
            assert src.last_state.doc_deletes == "00000000-0000-0000-0000-000000000000"


def test_server_url_lists_databases(tmp_path):
    with Emulator(real("Periodic_full_3.5.ravendump"), "--name", "Shop") as emu:
        out = cli("inspect", emu.server, "--json")
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["databases"] == ["Shop"] and report["file_systems"] == []
        fs = cli("inspect", f"{emu.server}/fs/Files")
        assert fs.returncode == 1 and "Could not find a resource named: Files" in fs.stderr, fs.stderr
        assert "Traceback" not in fs.stderr


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ravenmigrate", *args], capture_output=True, text=True, env=env,
                          timeout=600)


# -- incremental: run, change, run ---------------------------------------------------------------------
def test_incremental_sends_only_changes_and_applies_deletions(ravendb, new_database, tmp_path):
    db = new_database("inc")
    with Emulator(real(NORTHWIND)) as emu:
        first = live_load(emu.url, ravendb.url, db, tmp_path)
        assert first["counts"]["documents"] == 1059
        first_state = first["live_export"]["last"]
        assert first_state["LastDocsEtag"] == emu.state()["stats"]["LastDocEtag"]
        emu.batch([
            {"Method": "PUT", "Key": "companies/new-1", "Document": {"Name": "New Co"},
             "Metadata": {"Raven-Entity-Name": "Companies"}},
            {"Method": "PUT", "Key": "employees/1", "Document": {"FirstName": "Changed", "LastName": "Davolio"},
             "Metadata": {"Raven-Entity-Name": "Employees"}},
            {"Method": "DELETE", "Key": "orders/1"},
            {"Method": "DELETE", "Key": "products/1"},
        ])
        second = live_load(emu.url, ravendb.url, db, tmp_path)
        c = second["counts"]
        assert (c["documents"], c["deletions"]) == (2, 2), c
        options = emu.state()["exports"][-1]["options"]
        assert options["ExportDeletions"] is True and options["StartDocsEtag"] == first_state["LastDocsEtag"]
        with RavenClient(ravendb.url) as client:
            got = client.json("GET", f"/databases/{db}/docs?id=employees/1")["Results"][0]
            assert got["FirstName"] == "Changed"
            for gone in ("orders/1", "products/1"):
                assert client.request("GET", f"/databases/{db}/docs?id={gone}", ok=(200, 404))[0] == 404
            state = client.json("GET", f"/databases/{db}/docs?id=Raven/Migration/Status/v3.5/db/{emu.server}")
            assert state["Results"][0]["LastDocsEtag"] == emu.state()["stats"]["LastDocEtag"]
        report = verify_live(emu.url, ravendb.url, db)
        assert report["ok"], json.dumps(report, default=str)[:3000]
        assert report["documents"]["expected"] == 1059 + 1 - 2
        out = cli("verify", emu.url, "--url", ravendb.url, "-d", db)
        assert out.returncode == 0 and "verify OK" in out.stdout, out.stdout + out.stderr
        third = live_load(emu.url, ravendb.url, db, tmp_path)
        assert (third["counts"]["documents"], third["counts"]["deletions"]) == (0, 0)


# -- API key -------------------------------------------------------------------------------------------
def test_api_key_handshake_and_wrong_secret(tmp_path):
    with Emulator(real("Periodic_full_3.5.ravendump"), "--api-key", "migrator/s3cr3t") as emu:
        src = open_source(emu.url, api_key="migrator/s3cr3t")
        assert len(list(src.records())) > 12
        assert emu.state()["tokens_issued"] == 1 and "no token" in emu.state()["rejected"]
        with pytest.raises(LiveError, match="Invalid challenge response"):
            list(open_source(emu.url, api_key="migrator/wrong").records())
        with pytest.raises(LiveError, match="Unknown API Key"):
            list(open_source(emu.url, api_key="nobody/s3cr3t").records())
        env = {**os.environ, "RAVENMIGRATE_API_KEY": "migrator/wrong"}
        out = cli("inspect", emu.url, env=env)
        assert out.returncode == 1 and "Invalid challenge response" in out.stderr and "Traceback" not in out.stderr
        assert cli("inspect", emu.url, "--api-key", "migrator/s3cr3t").returncode == 0


def test_token_expiring_mid_run_is_renewed(ravendb, new_database, tmp_path):
    db = new_database("oauth")
    key = "migrator/s3cr3t"
    with Emulator(real(NORTHWIND), "--api-key", key, "--token-ttl", "1", "--docs-per-second", "700") as emu:
        report = live_load(emu.url, ravendb.url, db, tmp_path, source_options={"api_key": key})
        assert report["counts"]["documents"] == 1059
        state = emu.state()
        assert "The access token is expired" in state["rejected"] and state["tokens_issued"] >= 2
        assert report["live_export"]["last"]["LastDocsEtag"] == state["stats"]["LastDocEtag"]
        result = verify_live(emu.url, ravendb.url, db, api_key=key)
        assert result["ok"], json.dumps(result, default=str)[:3000]


# -- Windows (NTLM) --------------------------------------------------------------------------------------
def test_windows_credentials_ntlm():
    pytest.importorskip("spnego")
    with Emulator(real("Periodic_full_3.5.ravendump"), "--windows", "alice:Pa55word") as emu:
        assert cli("inspect", emu.url, "--user", "alice", "--password", "Pa55word").returncode == 0
        assert emu.state()["windows_logins"] >= 3  # version, operation id, export, status
        bad = cli("inspect", emu.url, "--user", "alice", "--password", "nope")
        assert bad.returncode == 1 and "refused the Windows credentials" in bad.stderr
        anonymous = cli("inspect", emu.url)
        assert anonymous.returncode == 1 and "401" in anonymous.stderr


# -- the 3.x server dies mid-run ---------------------------------------------------------------------------
@pytest.mark.parametrize("changed", [False, pytest.param(True, marks=pytest.mark.slow)],
                         ids=["unchanged", "changed-meanwhile"])
def test_source_killed_mid_run_then_resume(ravendb, new_database, tmp_path, changed):
    """Unchanged: --resume skips what was acknowledged. Changed before the resume (a document put on
    the restarted server): the statistics differ, so everything is sent again and nothing is lost."""
    db = new_database("killed")
    report = tmp_path / "load.json"
    checkpoint = tmp_path / "load.json.checkpoint"
    emu = Emulator(real(NORTHWIND), "--stall-after-docs", "700").start()
    args = ["load", emu.url, "--url", ravendb.url, "-d", db, "--streams", "2", "--operation-docs", "100",
            "--retry-for", "2", "--report", str(report), "-q"]
    proc = subprocess.Popen([sys.executable, "-m", "ravenmigrate", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not checkpoint.exists() or sum(Checkpoint.load(checkpoint).acked) < 200:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        emu.kill()
        out, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(Exception):
            proc.kill()
        emu.kill()
    assert proc.returncode == 1, (out, err)
    assert "connection to the 3.x server" in err and "--resume" in err and "Traceback" not in err
    acked = sum(Checkpoint.load(checkpoint).acked)
    assert 200 <= acked < 1059
    with Emulator(real(NORTHWIND), port=emu.port) as again:
        if changed:
            again.batch([{"Method": "PUT", "Key": "companies/late-1", "Document": {"Name": "Late"},
                          "Metadata": {"Raven-Entity-Name": "Companies"}}])
        resumed = cli(*args, "--resume")
        assert resumed.returncode == 0, resumed.stderr
        rep = json.loads(report.read_text())
        assert rep["counts"]["already_acknowledged"] == (0 if changed else acked)
        assert ("sending all of it again" in resumed.stderr) == changed
        result = verify_live(again.url, ravendb.url, db)
        assert result["ok"], json.dumps(result, default=str)[:3000]


# -- a file system ------------------------------------------------------------------------------------------
def test_live_file_system_matches_file_source(ravendb, new_database, tmp_path):
    """``load http://.../fs/NAME`` gives the database ``load`` of the same RavenFS store gives
    (docs/ravenfs.md); ``verify`` against the live file system is clean; a second run sends nothing."""
    from ravenmigrate.verify.compare import diff, read_state

    store = real("ravenfs.voron.3628.zip")
    db_file, db_live = new_database("fsfile"), new_database("fslive")
    with Emulator(store, "--name", "Files") as emu:
        url = f"{emu.server}/fs/Files"
        assert emu.state()["stats"]["CountOfDocuments"] == 0
        live = live_load(url, ravendb.url, db_live, tmp_path)
        Loader(str(store), LoadOptions(ravendb.url, db_file, checkpoint=tmp_path / "file.checkpoint",
                                       progress=False), log=lambda _m: None).run()
        assert live["live_export"]["last"]["LastRavenFsEtag"] != "00000000-0000-0000-0000-000000000000"
        with RavenClient(ravendb.url) as client:
            a, b = read_state(client, db_file), read_state(client, db_live)
            state_id = next(i for i in b.documents if i.lower().startswith("raven/migration/status/"))
            assert b.documents.pop(state_id)["LastRavenFsEtag"] == live["live_export"]["last"]["LastRavenFsEtag"]
            b.stats["CountOfDocuments"] -= 1
            comparison = diff(a, b, ignore_last_modified=set(a.documents))  # both: the time of the load
        assert not comparison.failures, comparison.failures
        assert comparison.counts["documents"] > 0 and comparison.counts["attachments"] > 0
        report = verify_live(url, ravendb.url, db_live)
        assert report["ok"], json.dumps(report, default=str)[:3000]
        again = live_load(url, ravendb.url, db_live, tmp_path)
        assert again["counts"]["documents_sent"] == 0


def test_convert_live_database_to_4x_dump(tmp_path):
    """``convert http://.../databases/db -o OUT`` writes the dump ``convert`` of the same export
    stream saved to a file writes."""
    import gzip

    with Emulator(real(NORTHWIND)) as emu:
        saved = tmp_path / "export.ravendump"
        saved.write_bytes(export_bytes(emu.url))
        live, offline = tmp_path / "live.ravendbdump", tmp_path / "offline.ravendbdump"
        out = cli("convert", emu.url, "-o", str(live), "-q")
        assert out.returncode == 0, out.stderr
        assert cli("convert", str(saved), "-o", str(offline), "-q").returncode == 0
        assert gzip.decompress(live.read_bytes()) == gzip.decompress(offline.read_bytes())
        assert emu.state()["exports"][-1]["options"]["ExportDeletions"] is False


def test_https_certificate_verification(tmp_path):
    with Emulator(real("Periodic_full_3.5.ravendump"), "--https", str(tmp_path / "tls")) as emu:
        url = f"https://127.0.0.1:{emu.port}/databases/db"
        refused = cli("inspect", url)
        assert refused.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        assert cli("inspect", url, "--source-ca", str(tmp_path / "tls" / "cert.pem")).returncode == 0
        assert cli("inspect", url, "--source-insecure").returncode == 0


def test_incremental_legacy_attachments(ravendb, new_database, tmp_path):
    """Attachments put and deleted on the 3.x server (static/ endpoints) between two runs: the second
    sends the new one and deletes the deleted one's @files document."""
    db = new_database("incatt")
    with Emulator(real("Periodic_full_3.5.ravendump")) as emu:
        first = live_load(emu.url, ravendb.url, db, tmp_path)
        assert first["counts"]["attachments"] == 5
        for method, key, data in (("PUT", "file/new", b"fresh bytes"), ("DELETE", "file/2", None)):
            req = urllib.request.Request(f"{emu.url}/static/{key}", data=data, method=method,
                                         headers={"Content-Type": "text/plain"} if data else {})
            urllib.request.urlopen(req).close()
        second = live_load(emu.url, ravendb.url, db, tmp_path)
        c = second["counts"]
        # the new attachment is its @files document and the attachment itself (docs/formats/import-4x.md §6)
        assert (c["documents"], c["attachments"], c["deletions"]) == (1, 1, 1), c
        with RavenClient(ravendb.url) as client:
            assert client.request("GET", f"/databases/{db}/docs?id=files/file/2", ok=(200, 404))[0] == 404
            assert client.request("GET", f"/databases/{db}/docs?id=files/file/new", ok=(200, 404))[0] == 200
        report = verify_live(emu.url, ravendb.url, db)
        assert report["ok"], json.dumps(report, default=str)[:3000]


def test_source_url_forms():
    """The server part is kept as .NET's GetLeftPart(Authority) writes it (the state key uses it)."""
    from ravenmigrate.errors import SourceError
    from ravenmigrate.sources.live3x.url import parse

    assert parse("http://LocalHost:8080/databases/Shop").text == "http://localhost:8080/databases/Shop"
    assert parse("https://h:443/fs/Files").server == "https://h"
    assert parse("http://h:8080").kind is None
    for bad in ("http://h:8080/databases", "http://h:8080/databases/a/b", "http://h:x/", "http://h/db?x=1"):
        with pytest.raises(SourceError):
            parse(bad)
