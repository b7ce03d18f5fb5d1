"""RavenFS file systems (issue 16): the real Voron backup read, loaded and converted into the real 4.1.

Every file becomes ``files/{key}`` in ``@files`` with one attachment of the same name; the bytes
the server stores are compared with the source's by SHA-256.
"""

from __future__ import annotations

import hashlib
import urllib.parse

import pytest
from conftest import real

from ravenmigrate.convert import Converter
from ravenmigrate.records import AttachmentPut4, Document4, File
from ravenmigrate.sinks.dump4.convert import convert_to_dump4
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sinks.server.loader import Loader, LoadOptions
from ravenmigrate.sources import open_source
from ravenmigrate.verify.documents import verify

BACKUP = "ravenfs.voron.3628.zip"


def source_files(path) -> dict[str, tuple[bytes, dict]]:
    src = open_source(path)
    try:
        return {f.key: (b"".join(f.content.chunks()), f.metadata) for f in src.records()}
    finally:
        src.close()


def test_real_voron_backup_has_ten_files_whose_bytes_match_their_content_md5():
    files = source_files(real(BACKUP))
    assert sorted(files) == [f"source.{i}.file" for i in range(10)]
    for i in range(10):
        data, metadata = files[f"source.{i}.file"]
        assert data == bytes([i]) * i
        assert metadata["RavenFS-Size"] == str(i)
        assert hashlib.md5(data).hexdigest() == metadata["Content-MD5"]  # noqa: S324 - what 3.x stores


def test_conversion_keeps_what_migrator_v3_keeps():
    src = open_source(real(BACKUP))
    converter = Converter()
    out = [c for f in src.records() for c in converter.convert(f)]
    src.close()
    docs = [c for c in out if isinstance(c, Document4)]
    puts = [c for c in out if isinstance(c, AttachmentPut4)]
    assert [d.id for d in docs] == [f"files/source.{i}.file" for i in range(10)]
    assert all(d.collection == "@files" and d.flags == ("HasAttachments",) for d in docs)
    # every key of these files is RavenFS bookkeeping that Migrator_V3.GetCleanMetadata drops
    assert all(b'"@legacy-attachment-metadata":{}' in d.data for d in docs)
    assert [len(p.data) for p in puts] == list(range(10))


def test_skipped_files_are_counted_with_their_reason():
    pos = open_source(real(BACKUP))
    first = next(iter(pos.records()))
    pos.close()
    converter = Converter()
    tomb = File("gone.txt", first.content, {"Raven-Delete-Marker": True}, None, first.position)
    temp = File("a.txt.downloading", first.content, {}, None, first.position)
    upload = File("half.bin", None, {}, None, first.position)
    reasons = [next(iter(converter.convert(f))).reason for f in (tomb, temp, upload)]
    assert "Raven-Delete-Marker" in reasons[0] and ".downloading" in reasons[1] and "upload" in reasons[2]


def server_files(client: RavenClient, database: str) -> dict[str, tuple[str, dict]]:
    """``files/…`` documents of *database*: name -> (SHA-256 of the attachment the server returns, metadata)."""
    q = urllib.parse.quote(database)
    out = {}
    status, body = client.request("GET", f"/databases/{q}/streams/docs?startsWith=files/")
    import json

    for doc in json.loads(body)["Results"]:
        meta = doc["@metadata"]
        name = meta["@attachments"][0]["Name"]
        args = urllib.parse.urlencode({"id": meta["@id"], "name": name})
        status, data = client.request("GET", f"/databases/{q}/attachments?{args}")
        assert status == 200
        out[meta["@id"]] = (hashlib.sha256(data).hexdigest(), meta)
    return out


def expected_files(path) -> dict[str, str]:
    return {f"files/{k}": hashlib.sha256(data).hexdigest() for k, (data, _) in source_files(path).items()}


def check_server(ravendb, db: str, path) -> None:
    with RavenClient(ravendb.url) as client:
        got = server_files(client, db)
        stats = client.stats(db)
    assert stats["CountOfDocuments"] == 10 and stats["CountOfAttachments"] >= 9  # two empty files share a hash
    assert {k: v[0] for k, v in got.items()} == expected_files(path)
    for doc_id, (_, meta) in got.items():
        assert meta["@collection"] == "@files" and meta["@legacy-attachment-metadata"] == {}
        assert meta["@attachments"][0]["Name"] == doc_id[len("files/"):]


@pytest.mark.server
@pytest.mark.parametrize("transport", ["import", "bulk-insert"])
def test_real_backup_loads_byte_identical(ravendb, new_database, tmp_path, transport):
    path = real(BACKUP)
    db = new_database("rfs")
    options = LoadOptions(url=ravendb.url, database=db, transport=transport, checkpoint=tmp_path / "cp")
    report = Loader(str(path), options).run()
    assert report["status"] == "completed"
    check_server(ravendb, db, path)
    result = verify(str(path), ravendb.url, db, transport)
    assert result["ok"], result
    assert result["attachments"]["expected"] == 10 and result["attachments"]["found"] == 10


@pytest.mark.server
def test_real_backup_converts_and_the_server_imports_it_byte_identical(ravendb, new_database, tmp_path):
    path = real(BACKUP)
    out = tmp_path / "fs.ravendbdump"
    report = convert_to_dump4(path, out)
    assert report["counts"]["documents"] == 10 and report["counts"]["attachments"] == 10
    db = new_database("rfs-dump")
    with RavenClient(ravendb.url) as client:
        client.import_file(db, str(out))
    check_server(ravendb, db, path)
    result = verify(str(path), ravendb.url, db, "import")
    assert result["ok"], result


def test_inspect_lists_the_file_system(capsys):
    from ravenmigrate import cli

    assert cli.main(["inspect", str(real(BACKUP)), "--json"]) == 0
    import json

    fs = json.loads(capsys.readouterr().out)["file_system"]
    assert fs["files"] == fs["migrated_files"] == 10 and fs["migrated_bytes"] == 45
    assert fs["largest_file"] == {"key": "source.9.file", "bytes": 9}
    assert fs["metadata_keys"]["Content-MD5"] == 10 and fs["not_migrated"] == {}
    assert len(fs["configurations"]) == 14 and "Raven/Synchronization/Destinations" in fs["configurations"]
    assert cli.main(["inspect", str(real(BACKUP))]) == 0
    text = capsys.readouterr().out
    assert "RavenFS file system" in text and "configuration entries: 14" in text
