"""Issue 19's findings on bad input, one test each (docs/reliability.md): never a traceback, never a
record lost without saying so, outputs written atomically. The damaged inputs are made from the
real fixtures (conftest ``real``) or built with ``fixtures/voron_builder.py``."""

from __future__ import annotations

import base64
import gzip
import io
import json
import struct
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import real

from ravenmigrate import cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import voron_builder  # noqa: E402

NORTHWIND = "Northwind_3.5.35168.ravendump"
VORON_ZIP = "northwind.voron.3528.zip"


@pytest.fixture(scope="module")
def northwind() -> bytes:
    return gzip.decompress(real(NORTHWIND).read_bytes())


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """The command's exit status, stdout and stderr; an exception escaping ``cli.main`` (a traceback
    for a user) fails the test."""
    capsys.readouterr()
    rc = cli.main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def in_metadata(data: bytes, doc_id: str, member: bytes) -> bytes:
    """*data* with ``member`` added first in the ``@metadata`` of document *doc_id*."""
    at = data.index(b'"@id": "' + doc_id.encode() + b'"')
    meta = data.rindex(b'"@metadata": {', 0, at) + len(b'"@metadata": {')
    return data[:meta] + member + b"," + data[meta:]


@pytest.mark.parametrize("member", [
    b'"Deep": ' + b"[" * 100_000 + b"]" * 100_000,
    b'"Deep": ' + b'{"a":' * 3000 + b"1" + b"}" * 3000,
])
def test_deep_nesting_in_metadata_is_a_located_error(tmp_path, capsys, northwind, member):
    src = tmp_path / "deep.json"
    src.write_bytes(in_metadata(northwind, "orders/5", member))
    for argv in (["inspect", str(src)], ["convert", str(src), "-o", str(tmp_path / "out.ravendbdump"), "-q"]):
        rc, _, err = run(capsys, *argv)
        assert rc == 1, argv
        assert str(src) in err and "section Docs" in err and "uncompressed offset" in err, err
        assert "nested deeper than 256 levels" in err and "after document 'orders/4'" in err, err


def test_moderate_nesting_in_metadata_is_kept(tmp_path, capsys, northwind):
    src = tmp_path / "nested.json"
    src.write_bytes(in_metadata(northwind, "orders/5", b'"Nested": ' + b"[" * 200 + b"7" + b"]" * 200))
    out = tmp_path / "out.ravendbdump"
    rc, _, err = run(capsys, "convert", str(src), "-o", str(out), "-q")
    assert rc == 0, err
    assert b'"Nested":' + b"[" * 200 + b"7" + b"]" * 200 in gzip.decompress(out.read_bytes())


@pytest.mark.parametrize("where", ["metadata", "index", "identity"])
def test_huge_integers_keep_their_digits_or_are_refused(tmp_path, capsys, northwind, where):
    digits = b"9" * 5000
    if where == "metadata":
        data = in_metadata(northwind, "orders/5", b'"Huge": ' + digits)
    elif where == "index":
        data = northwind.replace(b'"LockMode": ', b'"Huge": ' + digits + b', "LockMode": ', 1)
    else:
        data = northwind.replace(b'"Identities": [', b'"Identities": [{"Key": "big/", "Value": ' + digits + b"},", 1)
    src = tmp_path / "huge.json"
    src.write_bytes(data)
    out = tmp_path / "out.ravendbdump"
    rc_inspect, _, err_inspect = run(capsys, "inspect", str(src))
    rc, _, err = run(capsys, "convert", str(src), "-o", str(out), "-q")
    assert rc == rc_inspect, (err, err_inspect)
    if where == "identity":  # 3.x identities are Int64 (formats-3x.md §3.6): a located refusal
        assert rc == 1 and "section Identities" in err and "Int64" in err, err
    else:
        assert rc == 0, err
        if where == "metadata":  # kept as written (a 4.x index definition has no place for the field)
            assert b'"Huge":' + digits in gzip.decompress(out.read_bytes())


def _damage_member(data: bytes, name: str) -> bytes:
    """The zip *data* with a byte in the middle of member *name*'s compressed bytes flipped."""
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.getinfo(name)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    at = start + info.compress_size // 2
    return data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:]


@pytest.mark.parametrize("member", ["IndexDefinitions/2.index", "Database.Document", "RavenDB.Voron.Backup"])
def test_damaged_voron_zip_member_is_a_located_error(tmp_path, capsys, member):
    src = tmp_path / "damaged.zip"
    src.write_bytes(_damage_member(real(VORON_ZIP).read_bytes(), member))
    for argv in (["inspect", str(src)], ["convert", str(src), "-o", str(tmp_path / "out.ravendbdump"), "-q"]):
        rc, _, err = run(capsys, *argv)
        assert rc == 1, (argv, err)
        assert str(src) in err and member in err, err


def _voron_dir(tmp_path: Path, documents, **kw) -> Path:
    dest = tmp_path / "voron"
    dest.mkdir()
    voron_builder.database(dest, documents, **kw)
    return dest


def test_voron_key_that_is_not_utf8_is_a_located_error(tmp_path, capsys):
    builder = voron_builder.StorageBuilder()
    rows = [("users/1", b'{"Name":"a"}', {}), ("users/2", b'{"Name":"b"}', {})]
    bad_key = b"users/\xff"
    builder.add_tree("documents", [(b"users/1", rows[0][1]), (bad_key, rows[1][1])])
    builder.add_tree("documents_metadata", [(b"users/1", voron_builder.metadata_row("users/1", 1, {})),
                                            (bad_key, voron_builder.metadata_row("users/2", 2, {}))])
    dest = tmp_path / "voron"
    dest.mkdir()
    builder.write(dest)
    rc, _, err = run(capsys, "inspect", str(dest))
    assert rc == 1 and "not UTF-8" in err and "section Docs" in err and "record 1" in err, err
    assert "after document 'users/1'" in err, err


def test_voron_metadata_with_a_bom_is_read(tmp_path, capsys):
    """3.5 writers may start a documents_metadata JSON with a UTF-8 BOM (docs/voron.md)."""
    dest = _voron_dir(tmp_path, [("categories/1", b'{"Name":"Beverages"}', {"Raven-Entity-Name": "Categories"})],
                      metadata_bom=True)
    rc, out, err = run(capsys, "inspect", str(dest), "--json")
    assert rc == 0, err
    assert json.loads(out)["collections"] == {"Categories": 1}


@pytest.mark.server
def test_bulk_insert_operation_starting_with_an_attachment(ravendb, new_database, tmp_path, capsys):
    """An operation that starts with a legacy attachment held the document puts after it too, and
    sent them down the delete path (``Object of type bytes is not JSON serializable``)."""
    import generate

    src = tmp_path / "attachments.ravendump"
    made = generate.generate(src, docs=20, attachments=24, attachment_bytes=1 << 20, seed=5, level=1)
    db = new_database("bulkatt")
    rc, out, err = run(capsys, "load", str(src), "--url", ravendb.url, "-d", db, "--transport", "bulk-insert",
                       "--streams", "1", "--operation-mb", "1", "-q", "--checkpoint", str(tmp_path / "cp"))
    assert rc == 0, err
    rc, out, err = run(capsys, "verify", str(src), "--url", ravendb.url, "-d", db, "--transport", "bulk-insert",
                       "--json")
    result = json.loads(out)
    assert rc == 0 and result["ok"], err
    assert result["attachments"]["found"] == made["counts"]["Attachments"] == 24
    assert result["attachments"]["missing"] == result["attachments"]["different"] == 0


def _damage_id(data: bytes, doc_id: str) -> bytes:
    """One damaged byte in the ``"@id"`` key of document *doc_id* (the campaign's silent loss)."""
    at = data.index(b'"@id": "' + doc_id.encode() + b'"')
    return data[:at + 2] + b"X" + data[at + 3:]


def test_damaged_id_is_never_a_silent_loss(tmp_path, capsys, northwind):
    src = tmp_path / "damaged-id.json"
    src.write_bytes(_damage_id(_damage_id(northwind, "orders/5"), "employees/3"))
    out = tmp_path / "out.ravendbdump"
    rc, _, err = run(capsys, "convert", str(src), "-o", str(out), "-q")
    assert rc == 1 and "no '@id' string" in err and "section Docs" in err, err
    assert not out.exists()
    rejects, report = tmp_path / "rejects.jsonl", tmp_path / "report.json"
    rc, stdout, err = run(capsys, "convert", str(src), "-o", str(out), "-q", "--max-rejects", "-1",
                          "--rejects", str(rejects), "--report", str(report))
    assert rc == 3, err
    assert "rejected records: 2" in stdout and "document-without-id" in stdout, stdout
    rep = json.loads(report.read_text())
    assert rep["status"] == "completed with rejects" and rep["rejects"]["count"] == 2
    assert rep["counts"]["documents"] == 1059 - 2
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [x["code"] for x in lines] == ["document-without-id"] * 2
    assert all(b'"@Xd": "' in base64.b64decode(x["raw_base64"]) for x in lines)
    rc, _, err = run(capsys, "convert", str(src), "-o", str(out), "-q", "--max-rejects", "1")
    assert rc == 1 and "no '@id' string" in err, err  # the second one is over the limit


@pytest.mark.parametrize("content", [b"", gzip.compress(b""), b"\r\n"])
def test_empty_input_is_an_error(tmp_path, capsys, content):
    src = tmp_path / "empty.ravendump"
    src.write_bytes(content)
    for argv in (["inspect", str(src)], ["convert", str(src), "-o", str(tmp_path / "out.ravendbdump"), "-q"]):
        rc, _, err = run(capsys, *argv)
        assert rc == 1 and "the file is empty" in err, (argv, err)


def test_invalid_utf8_same_verdict_and_never_in_an_output(tmp_path, capsys, northwind):
    """A damaged byte in a body or in metadata: inspect and convert refuse the same record; with
    --max-rejects the dump holds no invalid UTF-8."""
    for where in (b'"ProductName": "', b'"Raven-Clr-Type": "'):
        at = northwind.index(where, northwind.index(b'"@id": "orders/7"')) + len(where)
        data = northwind[:at] + b"\xff" + northwind[at + 1:]
        src = tmp_path / "utf8.json"
        src.write_bytes(data)
        out = tmp_path / "out.ravendbdump"
        rc_inspect, _, err_inspect = run(capsys, "inspect", str(src))
        rc, _, err = run(capsys, "convert", str(src), "-o", str(out), "-q")
        assert rc == rc_inspect == 1, (err, err_inspect)
        for e in (err, err_inspect):
            assert "invalid UTF-8" in e and "record " in e and "uncompressed offset" in e, e
        rc, _, err = run(capsys, "convert", str(src), "-o", str(out), "-q", "--max-rejects", "-1")
        assert rc == 3, err
        gzip.decompress(out.read_bytes()).decode("utf-8")


def test_failed_convert_keeps_the_earlier_dump(tmp_path, capsys, northwind):
    out = tmp_path / "out.ravendbdump"
    rc, _, err = run(capsys, "convert", str(real(NORTHWIND)), "-o", str(out), "-q")
    assert rc == 0, err
    good = out.read_bytes()
    src = tmp_path / "cut.json"
    src.write_bytes(northwind[: len(northwind) * 2 // 3])
    rc, _, err = run(capsys, "convert", str(src), "-o", str(out), "-q", "--split-size", "20K")
    assert rc == 1, err
    assert out.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.json", "out.ravendbdump"]  # no partial left


def test_split_parts_appear_only_on_success(tmp_path, capsys, monkeypatch):
    from ravenmigrate.sinks.dump4 import split

    seen: list[list[str]] = []
    opened = split.SplitDump4Writer._open

    def spy(self, path):
        seen.append(sorted(p.name for p in path.parent.iterdir()))
        opened(self, path)

    monkeypatch.setattr(split.SplitDump4Writer, "_open", spy)
    out = tmp_path / "out" / "dump.ravendbdump"
    out.parent.mkdir()
    rc, _, err = run(capsys, "convert", str(real(NORTHWIND)), "-o", str(out), "-q", "--split-size", "40K")
    assert rc == 0, err
    assert len(seen) > 2 and all(name.endswith(".partial") for names in seen for name in names)
    final = sorted(p.name for p in out.parent.iterdir())
    assert final == [f"dump.{n:03d}.ravendbdump" for n in range(1, len(seen) + 1)]


def _server_rejects(path: Path) -> Path:
    """Seven documents: one without @id (a bad source record) and six the reader accepts, of which the
    4.1 server refuses two: an id over its 2025-byte key limit and a number outside the double range
    ("Could not parse double")."""
    docs = [{"N": i, "@metadata": {"@id": f"things/{i}", "Raven-Entity-Name": "Things"}} for i in range(1, 5)]
    body = ",".join(json.dumps(d) for d in docs[:2])
    body += ',{"N": 0, "@metadata": {"@id": "things/' + "y" * 3000 + '", "Raven-Entity-Name": "Things"}}'
    body += ',{"Big": 1e999, "@metadata": {"@id": "things/big", "Raven-Entity-Name": "Things"}},'
    body += '{"N": 7, "@metadata": {"Raven-Entity-Name": "Things"}},'
    body += ",".join(json.dumps(d) for d in docs[2:])
    path.write_text('{"Docs": [' + body + "]}")
    return path


@pytest.mark.server
@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
def test_load_goes_on_past_documents_the_server_rejects(ravendb, new_database, tmp_path, capsys, transport):
    from ravenmigrate.sinks.server.client import RavenClient

    src = _server_rejects(tmp_path / "server-rejects.json")
    db = new_database("rej")
    common = ["load", str(src), "--url", ravendb.url, "-d", db, "--transport", transport, "-q",
              "--checkpoint", str(tmp_path / "cp")]
    rc, _, err = run(capsys, *common)
    assert rc == 1 and "no '@id' string" in err, err  # --max-rejects 0: the first one stops the load, as before
    rejects, report = tmp_path / "rejects.jsonl", tmp_path / "report.json"
    rc, out, err = run(capsys, *common, "--max-rejects", "-1", "--rejects", str(rejects), "--report", str(report))
    assert rc == 3, err
    assert "rejected records: 3" in out and "server-rejected" in out and "document-without-id" in out, out
    lines = {x["id"]: x for x in map(json.loads, rejects.read_text().splitlines())}
    assert lines.pop(None)["code"] == "document-without-id"
    assert set(lines) == {"things/big", "things/" + "y" * 3000}
    assert all(x["code"] == "server-rejected" and x["raw_base64"] for x in lines.values())
    messages = " ".join(x["reason"] for x in lines.values())
    assert "things/big" in messages
    assert json.loads(report.read_text())["rejects"]["count"] == 3
    client = RavenClient(ravendb.url)
    assert client.stats(db)["CountOfDocuments"] == 4
    assert all(client.get_document(db, f"things/{i}") is not None for i in range(1, 5))
    rc, out, _ = run(capsys, "verify", str(src), "--url", ravendb.url, "-d", db, "--transport", transport,
                     "--json", "--max-rejects", "-1")
    docs = json.loads(out)["documents"]  # the source reject is not expected; the server rejects are missing
    assert rc == 1 and sorted(docs["missing_items"]) == sorted(["things/big", "things/" + "y" * 3000]), docs
    assert docs["different"] == docs["extra"] == 0


def test_voron_bom_variants_attachments_and_index_definitions(tmp_path, capsys):
    """The BOM a 3.5 writer may put before stored JSON, in every JSON a Voron backup holds: metadata
    rows (above), attachment headers and IndexDefinitions files; the storage key of a tree is never
    decoded leniently (non-UTF-8 keys: test_voron_key_that_is_not_utf8_is_a_located_error)."""
    builder = voron_builder.StorageBuilder()
    builder.add_tree("documents", [(b"users/1", b'{"Name":"a"}')])
    builder.add_tree("documents_metadata", [(b"users/1", voron_builder.metadata_row("users/1", 1, {}, bom=True))])
    voron_builder.attachment_trees(builder, [("docs/a.txt", b"hello", {"Content-Type": "text/plain"})], bom=True)
    dest = tmp_path / "voron"
    dest.mkdir()
    builder.write(dest)
    (dest / "IndexDefinitions").mkdir()
    definition = {"Name": "Users/ByName", "Map": "from u in docs.Users select new { u.Name }", "Maps": [
        "from u in docs.Users select new { u.Name }"], "LockMode": "Unlock"}
    (dest / "IndexDefinitions" / "1.index").write_bytes(b"\xef\xbb\xbf" + json.dumps(definition, indent=2).encode())
    rc, out, err = run(capsys, "inspect", str(dest), "--json")
    assert rc == 0, err
    report = json.loads(out)
    assert report["counts"]["Docs"] == 1 and report["counts"]["Attachments"] == 1 and report["counts"]["Indexes"] == 1


def test_voron_metadata_in_bson_is_read(tmp_path, capsys):
    """Metadata is written by the same WriteToBinary as bodies (DocumentsStorageActions.cs), so the reader
    applies the bodies' JSON-or-BSON rule (codecs.body) to it as well."""
    builder = voron_builder.StorageBuilder()
    meta = {"Raven-Entity-Name": "Users", "Raven-Clr-Type": "Users.User, App", "Rank": 3}
    builder.add_tree("documents", [(b"users/1", b'{"Name":"a"}')])
    builder.add_tree("documents_metadata", [(b"users/1", voron_builder.metadata_row("users/1", 1, meta, bson=True))])
    dest = tmp_path / "voron"
    dest.mkdir()
    builder.write(dest)
    rc, out, err = run(capsys, "inspect", str(dest), "--json")
    assert rc == 0, err
    assert json.loads(out)["collections"] == {"Users": 1}


def test_rejects_file_is_complete_even_when_the_run_fails_early(tmp_path, capsys):
    rejects = tmp_path / "rejects.jsonl"
    rc, _, err = run(capsys, "convert", str(tmp_path / "missing.ravendump"), "-o", str(tmp_path / "o.ravendbdump"),
                     "-q", "--rejects", str(rejects), "--max-rejects", "-1")
    assert rc == 1 and "no such file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rejects.jsonl"] and rejects.read_text() == ""
