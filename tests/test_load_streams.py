"""Load transports against the real RavenDB 4.1 with converted records built by hand: parallel
streams, checkpoints, resume, and the failure modes (refused connection, rejected document)."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from ravenmigrate.records import AttachmentPut4, Delete4, Document4, Position
from ravenmigrate.server import EmbeddedServer, free_port
from ravenmigrate.sinks.server.checkpoint import Checkpoint
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sinks.server.loader import Loader, LoadError, LoadOptions
from ravenmigrate.sinks.server.streams import Limits

pytestmark = pytest.mark.server
TRANSPORTS = ("bulk-insert", "import")


def pos(i: int) -> Position:
    return Position("hand-built", "Docs", i, i * 100)


def doc(i: int, doc_id: str | None = None, lm: str | None = "2016-08-22T11:23:36.1861726Z") -> Document4:
    data = b'{"Name":"user %d","Score":%d.50,"@metadata":{"@collection":"Users","Raven-Clr-Type":"U"}}' % (i, i)
    return Document4(doc_id or f"users/{i}", data, "Users", lm, pos(i))


def pairs(n: int, bad: set[int] = frozenset()):
    def gen():
        for i in range(n):
            yield None, [doc(i, f"users/{i}|" if i in bad else None)]
    return gen


def options(url: str, db: str, transport: str, tmp_path, **kw) -> LoadOptions:
    return LoadOptions(url=url, database=db, transport=transport, checkpoint=tmp_path / "load.checkpoint", **kw)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_parallel_streams_load_every_document_once(ravendb, new_database, tmp_path, transport):
    db = new_database("streams")
    opts = options(ravendb.url, db, transport, tmp_path, streams=3, limits=Limits(items=400))
    report = Loader("hand-built", opts, pairs=pairs(3000)).run()
    client = RavenClient(ravendb.url)
    assert client.stats(db)["CountOfDocuments"] == 3000
    got = client.get_document(db, "users/1234")
    assert got["Name"] == "user 1234" and got["@metadata"]["@collection"] == "Users"
    if transport == "import":
        assert got["@metadata"]["@last-modified"] == "2016-08-22T11:23:36.1861726Z"
    cp = Checkpoint.load(tmp_path / "load.checkpoint")
    assert sum(cp.acked) == 3000 and cp.finished and len(cp.acked) == 3
    assert all(n > 0 for n in cp.acked)
    assert report["counts"]["documents_sent"] == 3000 and report["counts"]["operations"] >= 8


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_attachment_and_deletion_follow_their_document(ravendb, new_database, tmp_path, transport):
    from ravenmigrate.records import Attachment

    db = new_database("att")
    att = Attachment("images/1.png", b"0123456789abcdefghijklmn", {"Content-Type": "image/png"}, None, pos(9))
    files = Document4("files/images/1.png", b'{"@metadata":{"@collection":"@files","@legacy-attachment-metadata":'
                      b'{"Content-Type":"image/png"}}}', "@files", None, pos(9), ("HasAttachments",))
    digest = base64.b64encode(hashlib.blake2b(att.data, digest_size=32).digest()).decode()
    put = AttachmentPut4("files/images/1.png", "images/1.png", "", att.data, digest, pos(9))

    def gen():
        yield None, [doc(1)]
        yield None, [doc(2)]
        yield None, [Delete4("users/2", pos(3))]
        yield att, [files, put]
        yield None, [doc(2, lm=None)]
        yield None, [Delete4("USERS/1", pos(4))]

    Loader("hand-built", options(ravendb.url, db, transport, tmp_path, streams=2), pairs=gen).run()
    client = RavenClient(ravendb.url)
    assert client.get_document(db, "users/1") is None
    assert client.get_document(db, "users/2")["Name"] == "user 2"
    meta = client.get_document(db, "files/images/1.png")["@metadata"]
    assert meta["@attachments"][0]["Hash"] == put.hash
    assert meta["@legacy-attachment-metadata"]["Content-Type"] == "image/png"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_rejected_document_stops_with_its_id_and_resume_sends_only_the_rest(ravendb, new_database, tmp_path,
                                                                             transport):
    db = new_database("reject")
    opts = options(ravendb.url, db, transport, tmp_path, streams=1, limits=Limits(items=100), retry_for=5)
    with pytest.raises(LoadError) as err:
        Loader("hand-built", opts, pairs=pairs(500, bad={250})).run()
    message = str(err.value)
    assert "users/250|" in message and "--resume" in message and str(tmp_path / "load.checkpoint") in message
    assert err.value.report["rejected_document"] == "users/250|"
    cp = Checkpoint.load(tmp_path / "load.checkpoint")
    assert cp.acked == [200] and not cp.finished
    # The operator fixes the source; the resumed load skips exactly what was acknowledged.
    opts.resume = True
    report = Loader("hand-built", opts, pairs=pairs(500)).run()
    assert report["counts"]["already_acknowledged"] == 200
    assert report["counts"]["documents_sent"] == 300
    assert RavenClient(ravendb.url).stats(db)["CountOfDocuments"] == 500


def test_refused_connection_ends_with_clear_message_and_checkpoint(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    opts = options(url, "nowhere", "import", tmp_path, retry_for=1.0)
    with pytest.raises(Exception) as err:
        Loader("hand-built", opts, pairs=pairs(10)).run()
    assert "Connection refused" in str(err.value) and "gave up" in str(err.value)


def test_server_stopped_mid_load_then_resume_completes_without_resending(tmp_path):
    """A clean stop (SIGTERM) in the middle: the load ends with a clear message and a checkpoint;
    after a restart on the same data directory and ports, --resume sends only the rest."""
    n = 20_000
    with EmbeddedServer(tmp_path / "server") as srv:
        RavenClient(srv.url).create_database("stopped")
        opts = options(srv.url, "stopped", "import", tmp_path, streams=2, limits=Limits(items=1000), retry_for=3)
        cp_path = tmp_path / "load.checkpoint"

        def gen():
            for i in range(n):
                if i == n // 2:
                    while sum(Checkpoint.load(cp_path).acked) < 4000:
                        time.sleep(0.05)
                    srv.stop()
                yield None, [doc(i)]

        with pytest.raises(LoadError) as err:
            Loader("hand-built", opts, pairs=gen).run()
        assert "--resume" in str(err.value) and "gave up" in str(err.value)
        acked = sum(Checkpoint.load(cp_path).acked)
        assert 4000 <= acked < n
        srv.start()
        opts.resume = True
        report = Loader("hand-built", opts, pairs=pairs(n)).run()
        assert report["counts"]["already_acknowledged"] == acked
        assert report["counts"]["documents_sent"] == n - acked
        assert RavenClient(srv.url).stats("stopped")["CountOfDocuments"] == n
