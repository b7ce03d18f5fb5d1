"""verify's read of the server's documents (``verify.answer``), on the real 4.1 server: read ahead on
its own thread into reused buffers, the same bytes as a plain read; a connection cut in the middle
of the answer (a relay in front of the server that closes after N bytes) is a located error, for
``verify`` a message and exit 1, never a traceback or a hang; closing an answer not read to its
end returns at once and leaves the client usable."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.errors import ServerError
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.verify import answer as verify_answer
from ravenmigrate.verify.answer import EVERY_DOCUMENT, every_document
from ravenmigrate.verify.stream import documents

NORTHWIND = "Northwind_3.5.35168.ravendump"


class CuttingRelay:
    """A TCP relay to *url* that closes both sides once it has passed *cut* bytes of the answer."""

    def __init__(self, url: str, cut: int) -> None:
        u = urllib.parse.urlsplit(url)
        self.target = (u.hostname, u.port)
        self.cut = cut
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        server = socket.create_connection(self.target)
        threading.Thread(target=self._pipe, args=(client, server, None), daemon=True).start()
        self._pipe(server, client, self.cut)

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, cut: int | None) -> None:
        passed = 0
        try:
            while cut is None or passed < cut:
                data = src.recv(65536 if cut is None else min(65536, cut - passed))
                if not data:
                    break
                dst.sendall(data)
                passed += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def northwind(ravendb):
    name = "answer-northwind"
    with RavenClient(ravendb.url) as client:
        client.create_database(name)
    assert cli.main(["load", str(real(NORTHWIND)), "--url", ravendb.url, "--database", name, "--quiet"]) == 0
    yield name
    with RavenClient(ravendb.url) as client:
        client.delete_database(name)


def test_the_answer_is_the_bytes_a_plain_read_gives_in_any_read_size(ravendb, northwind, monkeypatch):
    with RavenClient(ravendb.url) as client:
        _, plain = client.request("GET", f"/databases/{northwind}/{EVERY_DOCUMENT}")
        for size in (1000, 65536, 1 << 20):
            monkeypatch.setattr(verify_answer, "READ_SIZE", size)
            got = bytearray()
            with every_document(client, northwind) as answer:
                while chunk := answer.next():
                    got += chunk
            assert bytes(got) == plain and len(plain) > 500_000
        assert client.json("GET", f"/databases/{northwind}/stats")["CountOfDocuments"] > 1000  # still usable


def test_a_connection_cut_inside_the_answer_is_a_located_error(ravendb, northwind, monkeypatch, capsys):
    monkeypatch.setattr(verify_answer, "READ_SIZE", 1 << 14)
    relay = CuttingRelay(ravendb.url, cut=200_000)
    try:
        with RavenClient(relay.url) as client, every_document(client, northwind) as answer:
            with pytest.raises(ServerError, match=f"GET {relay.url}/databases/{northwind}/docs") as err:
                for _ in documents(answer):
                    pass
        assert "the connection ended inside the answer, after about" in str(err.value)
        started = time.monotonic()
        rc = cli.main(["verify", str(real(NORTHWIND)), "--url", relay.url, "--database", northwind, "--json"])
        assert rc == 1 and time.monotonic() - started < 60
        out = capsys.readouterr()
        assert f"ravenmigrate: error: GET {relay.url}/databases/{northwind}/docs" in out.err
        assert "the connection ended inside the answer" in out.err and "Traceback" not in out.err
    finally:
        relay.close()


def test_closing_an_answer_not_read_to_its_end_returns_and_the_client_goes_on(ravendb, northwind, monkeypatch):
    monkeypatch.setattr(verify_answer, "READ_SIZE", 1 << 12)
    monkeypatch.setattr(verify_answer, "AHEAD", 1 << 13)  # the reader waits for room almost at once
    with RavenClient(ravendb.url) as client:
        answer = every_document(client, northwind)
        assert answer.next()
        started = time.monotonic()
        answer.close()
        assert time.monotonic() - started < 5 and not answer._reader.is_alive()
        stats = client.json("GET", f"/databases/{northwind}/stats")  # a new connection
        assert json.dumps(stats) and stats["CountOfDocuments"] > 1000


def test_verify_of_a_database_the_server_does_not_hold_is_a_located_error(ravendb, capsys):
    rc = cli.main(["verify", str(real(NORTHWIND)), "--url", ravendb.url, "--database", "no-such-database", "--json"])
    err = capsys.readouterr().err
    assert rc == 1 and f"ravenmigrate: error: GET {ravendb.url}/databases/no-such-database/docs" in err
    assert "Traceback" not in err


# What verify's command line has not imported yet when it asks the server for the documents: the
# rest of verify, the conversion, the TLS and cluster helpers an http:// target with one URL does
# not need, and dataclasses (docs/loading.md "Verify", start-up).
NOT_BEFORE_THE_REQUEST = ("ravenmigrate.verify.documents", "ravenmigrate.convert", "ravenmigrate.sinks.server.tls",
                          "ravenmigrate.sinks.server.topology", "ravenmigrate.sinks.server.embedded",
                          "ravenmigrate.sources.base", "dataclasses", "getpass")

CONNECT_PROBE = """
import sys
seen = {}
def hook(event, args):
    if event == "socket.connect" and not seen:
        seen.update(dict.fromkeys(sys.modules))
sys.addaudithook(hook)
from ravenmigrate import cli
rc = cli.main(sys.argv[1:])
print("BEFORE", " ".join(sorted(seen)))
raise SystemExit(rc)
"""


def test_verify_asks_for_the_documents_before_importing_what_it_needs_later(ravendb, northwind):
    """The server starts writing the documents while the rest of verify is imported: at verify's first
    connection, none of :data:`NOT_BEFORE_THE_REQUEST` is imported yet; verify then ends OK."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", CONNECT_PROBE, "verify", str(real(NORTHWIND)), "--url", ravendb.url,
                           "--database", northwind, "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    before = set(proc.stdout.rsplit("BEFORE", 1)[1].split())
    assert "ravenmigrate.verify.answer" in before and "http.client" in before
    assert not {m for m in before if m.startswith(NOT_BEFORE_THE_REQUEST)}, sorted(before)
    assert json.loads(proc.stdout.rsplit("BEFORE", 1)[0])["ok"]


def test_verify_compares_behind_the_reader_of_the_answer_and_leaves_the_caller_as_it_was(ravendb, northwind):
    """Only the thread that drains the server's answer keeps the caller's priority: the comparison and
    the source's threads (reading and inflating) run behind it (``documents.COMPARE_NICENESS``; docs/loading.md "Verify"),
    and the caller's own thread is as it was after verify."""
    import os
    import sys

    from ravenmigrate.verify.documents import COMPARE_NICENESS, verify

    if not sys.platform.startswith("linux"):
        pytest.skip("a niceness per thread is Linux's")

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    base = niceness()
    seen: dict[str, int] = {}

    def profile(frame, event, arg):  # where each thread verify starts begins its work
        if event == "call" and frame.f_code.co_name in ("_read", "compare", "expected_from"):
            seen.setdefault(f"{threading.current_thread().name} {frame.f_code.co_name}", niceness())

    threading.setprofile(profile)
    try:
        report = verify(str(real(NORTHWIND)), ravendb.url, northwind)
    finally:
        threading.setprofile(None)
    assert report["ok"] and report["documents"]["found"] > 1000
    behind = min(base + COMPARE_NICENESS, 19)
    assert seen == {"verify-stream _read": base, "verify-compare compare": behind,
                    "verify-source expected_from": behind, f"inflate {NORTHWIND} _read": behind}
    assert niceness() == base


def _documents_of(answer) -> list[bytes]:
    """Every document of *answer* (one answer or ranges), as the bytes the server wrote."""
    from ravenmigrate.verify.stream import batches

    out = []
    for buf, spans, _, _ in batches(answer):
        out.extend(bytes(buf[spans[i]:spans[i + 1]]) for i in range(0, len(spans), 4))
    return out


def test_ranges_give_the_documents_of_one_read_in_its_order_and_end_after_a_short_range(ravendb, northwind):
    """Ranges of 100 documents, 3 asked for at once: the same documents in the same order as one read
    (the last range is short, the ones asked for after it are empty); every range's connection is
    closed and verify's own client is left usable."""
    from ravenmigrate.verify.answer import Ranges

    with RavenClient(ravendb.url) as client:
        with every_document(client, northwind) as one:
            expected = _documents_of(one)
        opened: list[RavenClient] = []

        def connect() -> RavenClient:
            opened.append(RavenClient(ravendb.url))
            return opened[-1]

        with Ranges(client, connect, northwind, streams=3, size=100) as ranges:
            got = _documents_of(ranges)
        assert got == expected and len(expected) > 1000
        assert len(opened) == -(-len(expected) // 100) + 2  # the short last range and the two asked for beyond it
        assert all(c._conn is None for c in opened)
        assert client.json("GET", f"/databases/{northwind}/stats")["CountOfDocuments"] == len(expected)


def test_verify_in_ranges_gives_the_report_of_one_read(ravendb, northwind, capsys):
    """``verify --streams 3`` (ranges sized from the server's stats, here two: 1 000 documents and
    the rest) and the API with ranges of 150 documents report what one read reports."""
    from ravenmigrate.verify.answer import every_document_in_ranges
    from ravenmigrate.verify.documents import verify

    reports = []
    for streams in ("1", "3"):
        assert cli.main(["verify", str(real(NORTHWIND)), "--url", ravendb.url, "--database", northwind, "--json",
                         "--streams", streams]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    with RavenClient(ravendb.url) as client:
        ranges = every_document_in_ranges(client, lambda: RavenClient(ravendb.url), northwind, 2, size=150)
        reports.append(verify(str(real(NORTHWIND)), ravendb.url, northwind, answer=ranges))
    assert reports[0]["ok"] and reports[0]["documents"]["found"] > 1000
    assert reports[1] == reports[0]
    assert {k: v for k, v in reports[2].items() if k != "url"} == {k: v for k, v in reports[0].items() if k != "url"}


def test_a_connection_cut_inside_a_range_is_a_located_error(ravendb, northwind, capsys):
    relay = CuttingRelay(ravendb.url, cut=60_000)  # past the stats the ranges are sized from, inside the first range
    try:
        started = time.monotonic()
        rc = cli.main(["verify", str(real(NORTHWIND)), "--url", relay.url, "--database", northwind, "--json",
                       "--streams", "2"])
        assert rc == 1 and time.monotonic() - started < 60
        err = capsys.readouterr().err
        assert f"ravenmigrate: error: GET {relay.url}/databases/{northwind}/docs?etag=0&start=0&pageSize=" in err
        assert "the connection ended inside the answer" in err and "Traceback" not in err
    finally:
        relay.close()
    with pytest.raises(SystemExit, match="--streams must be >= 1"):
        cli.main(["verify", str(real(NORTHWIND)), "--url", ravendb.url, "--database", northwind, "--streams", "0"])
