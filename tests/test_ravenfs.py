"""RavenFS file systems (issue 16): the real Voron backup read, loaded and converted into the real 4.1.

Every file becomes ``files/{key}`` in ``@files`` with one attachment of the same name; the bytes
the server stores are compared with the source's by SHA-256.
"""

from __future__ import annotations

import hashlib
import sys
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from conftest import public_ravendb_file, real

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
    src = open_source(real(BACKUP))
    # schema 1.0 rows hold Guid text; 3.x's Etag is made from the Guid's bytes (From10To11.cs)
    assert [f.etag for f in src.records()] == [f"00000000-0000-0001-0000-{2 * i + 2:012X}" for i in range(10)]
    src.close()
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
        out[meta["@id"]] = (attachment_sha256(client, f"/databases/{q}/attachments?{args}"), meta)
    return out


def attachment_sha256(client: RavenClient, path: str) -> str:
    """SHA-256 of an attachment as the server returns it, read in chunks (a file may be large)."""
    conn = client._connection()
    conn.request("GET", path)
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()[:500]
    h = hashlib.sha256()
    while chunk := resp.read(1 << 20):
        h.update(chunk)
    return h.hexdigest()


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


# -- generated file systems (fixtures/ravenfs_generate.py) ---------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
import ravenfs_generate as gen  # noqa: E402

SKIPPED = {"deleted in 3.x": 2, "temporary": 1, "upload never completed": 1}


def expected_generated(files) -> dict[str, str]:
    return {f"files/{f.key}": gen.sha256(f) for f in files if f.state == "live"}


def skipped_counts(reasons: dict[str, int]) -> dict[str, int]:
    return {label: sum(n for r, n in reasons.items() if label in r) for label in SKIPPED}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The sample file system as a data directory, a backup zip, and a store with its newest pages
    only in a journal."""
    base = tmp_path_factory.mktemp("rfs")
    files = gen.sample(12, 3000, large=200_000)
    store = gen.store(base / "store", files)
    backup = gen.backup_zip(store, base / "backup.zip")
    journaled = gen.store(base / "journaled", files, journal_pages=40)
    return files, {"store": store, "backup": backup, "journaled": journaled}


@pytest.mark.parametrize("form", ["store", "backup", "journaled"])
def test_generated_file_systems_read_byte_identical_in_every_form(generated, form):
    files, paths = generated
    src = open_source(paths[form])
    converter = Converter()
    got, reasons = {}, {}
    for f in src.records():
        for c in converter.convert(f):
            if isinstance(c, AttachmentPut4):
                h = hashlib.sha256()
                for chunk in c.data.chunks():
                    h.update(chunk)
                got[c.document_id] = h.hexdigest()
            elif not isinstance(c, Document4):
                reasons[c.reason] = reasons.get(c.reason, 0) + 1
    src.close()
    assert got == expected_generated(files)
    assert any("日本語" in k for k in got) and "files/a" in got and "files/a/b" in got
    assert skipped_counts(reasons) == SKIPPED


def test_generated_metadata_keeps_only_user_keys(generated):
    files, paths = generated
    src = open_source(paths["backup"])
    docs = {d.id: d for f in src.records() for d in Converter().convert(f) if isinstance(d, Document4)}
    src.close()
    import json

    meta = json.loads(docs["files/readme.txt"].data)["@metadata"]["@legacy-attachment-metadata"]
    assert meta == {"Owner": "user0", "Tags": ["t", 0]}


def test_encrypted_file_system_needs_the_right_key(tmp_path):
    from ravenmigrate.codecs.encryption import EncryptionSettings
    from ravenmigrate.errors import SourceError, WrongKeyError

    settings = EncryptionSettings(b"k" * 32, "AesCryptoServiceProvider", 256)
    files = gen.sample(4, 70_000)
    store = gen.store(tmp_path / "s", files, encryption=settings)
    backup = gen.backup_zip(store, tmp_path / "enc.zip", settings={"Raven/ActiveBundles": "Encryption"})
    with pytest.raises(WrongKeyError, match="Encryption bundle"):
        list(open_source(backup).records())
    wrong = EncryptionSettings(b"w" * 32, "AesCryptoServiceProvider", 256)
    with pytest.raises(SourceError, match="RavenFS page"):
        for f in open_source(backup, encryption=wrong).records():
            if f.content is not None:
                b"".join(f.content.chunks())
    src = open_source(backup, encryption=settings)
    got = {f"files/{f.key}": hashlib.sha256(b"".join(f.content.chunks())).hexdigest()
           for f in src.records() if f.content is not None and "Raven-Delete-Marker" not in f.metadata
           and not f.key.endswith((".downloading", ".deleting"))}
    src.close()
    assert got == expected_generated(files)


def test_a_damaged_page_is_named(tmp_path):
    from ravenmigrate.errors import SourceError

    files = [gen.GenFile("/one.bin", size=200_000)]
    store = gen.store(tmp_path / "s", files)
    src = open_source(store)
    (f,) = list(src.records())
    f.content.size += 1  # as if total_size promised one byte more than the pages hold
    with pytest.raises(SourceError, match="one.bin.*hold 200000 bytes but total_size is 200001"):
        b"".join(f.content.chunks())
    src.close()


@pytest.mark.server
def test_generated_backup_loads_and_converts_byte_identical(ravendb, new_database, generated, tmp_path):
    files, paths = generated
    expected = expected_generated(files)
    db = new_database("rfs-gen")
    report = Loader(str(paths["backup"]), LoadOptions(url=ravendb.url, database=db, transport="import",
                                                      checkpoint=tmp_path / "cp")).run()
    assert report["status"] == "completed"
    assert skipped_counts(Counter(s["reason"] for s in report["skipped"] if s["kind"] == "file")) == SKIPPED
    out = tmp_path / "gen.ravendbdump"
    convert_to_dump4(paths["backup"], out)
    db2 = new_database("rfs-gen-dump")
    with RavenClient(ravendb.url) as client:
        client.import_file(db2, str(out))
        for name in (db, db2):
            assert {k: v[0] for k, v in server_files(client, name).items()} == expected, name
    for name, transport in ((db, "import"), (db2, "import")):
        result = verify(str(paths["backup"]), ravendb.url, name, transport)
        assert result["ok"], result


MEASURE = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
           "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
LIMIT_KB = 256 * 1024


def peak_rss_kb(*argv: str) -> int:
    """Run ``ravenmigrate ARGV`` under a fresh wrapper whose only child it is; its peak RSS in KiB."""
    import subprocess

    cmd = [sys.executable, "-c", MEASURE, sys.executable, "-m", "ravenmigrate", *argv]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rc, peak = out.stdout.split()[-2:]
    assert rc == "0", out.stderr[-2000:]
    return int(peak)


@pytest.mark.slow
@pytest.mark.server
def test_a_300_mb_file_streams_through_convert_and_load_under_256_mb(ravendb, new_database, tmp_path):
    big = gen.GenFile("/big/300 MB.bin", size=300 << 20, metadata={"Kind": "large"})
    files = [big, gen.GenFile("/small.txt", size=10)]
    store = gen.store(tmp_path / "store", files)
    out = tmp_path / "big.ravendbdump"
    convert_peak = peak_rss_kb("convert", str(store), "-o", str(out), "--quiet")
    assert out.stat().st_size > 300 << 20
    out.unlink()  # the machine's disk is shared: keep at most one 300 MB copy besides the store
    db = new_database("rfs-big")
    load_peak = peak_rss_kb("load", str(store), "--url", ravendb.url, "--database", db, "--quiet",
                            "--report", str(tmp_path / "load.json"))
    print(f"\npeak RSS: convert {convert_peak / 1024:.0f} MB, load {load_peak / 1024:.0f} MB")
    assert convert_peak < LIMIT_KB and load_peak < LIMIT_KB
    with RavenClient(ravendb.url) as client:
        assert {k: v[0] for k, v in server_files(client, db).items()} == expected_generated(files)
        client.delete_database(db)


# -- exports ----------------------------------------------------------------------------------------


def test_smuggler_export_reads_like_the_storage(tmp_path):
    files = gen.sample(12, 3000, large=200_000)
    export = gen.smuggler_export(tmp_path / "fs.ravenfsdump", files, {"Raven/Sequences/Raven/Etag": {"Value": 1}})
    src = open_source(export)
    assert src.kind == "ravenfs-export"
    converter = Converter()
    got = {}
    for f in src.records():
        for c in converter.convert(f):
            if isinstance(c, AttachmentPut4):
                got[c.document_id] = hashlib.sha256(b"".join(c.data.chunks())).hexdigest()
    assert got == expected_generated(files)
    assert [n for n, _ in src.configs] == ["Raven/Sequences/Raven/Etag"]


def test_smuggler_export_with_a_brace_in_a_string_and_a_missing_entry(tmp_path):
    import zipfile

    from ravenmigrate.errors import SourceError

    path = tmp_path / "odd.ravenfsdump"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a}b.txt", b"x{y}")
        z.writestr(".metadata", '{\r\n  "Key": "a}b.txt",\r\n  "Metadata": {"Note": "a } and a {"}\r\n}\r\n')
    (f,) = list(open_source(path).records())
    assert (f.key, b"".join(f.content.chunks()), f.metadata) == ("a}b.txt", b"x{y}", {"Note": "a } and a {"})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(".configurations", "")
    broken = tmp_path / "missing.ravenfsdump"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr(".metadata", '{"Key": "gone.txt", "Metadata": {}}')
    with pytest.raises(SourceError, match="'gone.txt', which is not an entry"):
        list(open_source(broken).records())


def test_storage_exporter_output_converts_as_the_offline_migration(tmp_path):
    """``Raven.StorageExporter --RavenFS`` output is a legacy attachments dump: the converter's legacy
    attachment rules (docs/formats/import-4x.md §6) give the offline migration's result."""
    files = gen.sample(6, 3000)
    dump = gen.storage_exporter_output(tmp_path / "fs.ravendump", files)
    src = open_source(dump)
    out = [c for r in src.records() for c in Converter().convert(r)]
    puts = {c.document_id: hashlib.sha256(c.data).hexdigest() for c in out if isinstance(c, AttachmentPut4)}
    assert puts == expected_generated(files)
    skipped = sorted(c.reason.split(" (")[0] for c in out if not isinstance(c, Document4 | AttachmentPut4))
    assert len(skipped) == 3  # the tombstone, the .deleting and the .downloading rows


@pytest.mark.server
def test_storage_exporter_output_loads_as_the_server_imports_it(ravendb, new_database, tmp_path):
    """The server's own import of the exporter's file and ravenmigrate's load of it store the same
    files/ documents and attachments (the offline 4.x migration, confirmed on 4.1)."""
    files = gen.sample(6, 3000)
    dump = gen.storage_exporter_output(tmp_path / "fs.ravendump", files)
    theirs, ours = new_database("rfs-se-server"), new_database("rfs-se-load")
    with RavenClient(ravendb.url) as client:
        client.smuggler_import(theirs, [dump.read_bytes()])
    Loader(str(dump), LoadOptions(url=ravendb.url, database=ours, transport="import",
                                  checkpoint=tmp_path / "cp")).run()
    keep = ("@collection", "@attachments", "@legacy-attachment-metadata", "@flags")
    with RavenClient(ravendb.url) as client:
        a, b = server_files(client, theirs), server_files(client, ours)
    assert a.keys() == b.keys() and len(a) == sum(1 for f in files if f.state == "live")
    for k in a:
        assert a[k][0] == b[k][0]
        assert {x: a[k][1].get(x) for x in keep} == {x: b[k][1].get(x) for x in keep}, k


@pytest.mark.server
def test_smuggler_export_loads_byte_identical(ravendb, new_database, tmp_path):
    files = gen.sample(12, 3000, large=200_000)
    export = gen.smuggler_export(tmp_path / "fs.ravenfsdump", files)
    db = new_database("rfs-export")
    Loader(str(export), LoadOptions(url=ravendb.url, database=db, transport="bulk-insert",
                                    checkpoint=tmp_path / "cp")).run()
    with RavenClient(ravendb.url) as client:
        assert {k: v[0] for k, v in server_files(client, db).items()} == expected_generated(files)
    assert verify(str(export), ravendb.url, db, "bulk-insert")["ok"]


@pytest.mark.server
def test_the_servers_own_migrator_v3_stores_what_load_stores(ravendb, new_database, generated, tmp_path):
    """4.1's live RavenFS migration (Migrator_V3, run by the real server against an emulated 3.5
    server serving the same file system) and ravenmigrate's load give the same files/ documents:
    same attachments, same @legacy-attachment-metadata. The one documented difference: the live
    migration also takes a .downloading file (docs/ravenfs.md §3)."""
    import json
    import time

    from ravenfs_emulator import RavenFSEmulator

    _, paths = generated
    theirs, ours = new_database("rfs-mig"), new_database("rfs-ours")
    with RavenFSEmulator(paths["backup"]) as emu, RavenClient(ravendb.url) as client:
        body = {"ServerUrl": emu.url, "MigrationSettings": {"DatabaseName": "fs", "OperateOnTypes": "None",
                                                              "ImportRavenFs": True}}
        q = urllib.parse.quote(theirs)
        op = client.json("POST", f"/databases/{q}/admin/smuggler/migrate/ravendb", body)
        for _ in range(120):
            state = client.json("GET", f"/databases/{q}/operations/state?id={op['OperationId']}")
            if state and state.get("Status") != "InProgress":
                break
            time.sleep(0.5)
        assert state["Status"] == "Completed", json.dumps(state)[:2000]
        Loader(str(paths["backup"]), LoadOptions(url=ravendb.url, database=ours, transport="import",
                                                 checkpoint=tmp_path / "cp")).run()
        a, b = server_files(client, theirs), server_files(client, ours)
    assert set(a) - set(b) == {"files/syncing.bin.downloading"} and set(b) <= set(a), "\n".join(sorted(a)) + "\n--\n" + "\n".join(sorted(b))
    for k in b:
        assert a[k][0] == b[k][0], k
        assert a[k][1]["@legacy-attachment-metadata"] == b[k][1]["@legacy-attachment-metadata"], k
        assert a[k][1]["@attachments"] == b[k][1]["@attachments"], k


def test_selection_keeps_or_drops_a_file_with_its_document():
    from ravenmigrate.convert.selection import Selection, Selector

    src = open_source(real(BACKUP))
    f = next(iter(src.records()))
    converted = list(Converter().convert(f))
    src.close()
    dropped = Selector(Selection(exclude_collections=("@files",)))
    assert dropped.select(f, converted) == [] and dropped.filtered == {"attachment (collection)": 1}
    assert Selector(Selection(types=("documents",))).select(f, converted) == []
    assert Selector(Selection(collections=("@FILES",))).select(f, converted) == converted


def test_incremental_export_folder_reads_the_latest_export_of_each_file(tmp_path):
    import os

    first = [gen.GenFile("/a.txt", data=b"old"), gen.GenFile("/b.txt", data=b"bee")]
    second = [gen.GenFile("/a.txt", data=b"new"), gen.GenFile("/dir/c.txt", data=b"sea")]
    for n, files in enumerate((first, second)):
        part = gen.smuggler_export(tmp_path / f"2017-01-0{n + 1}-10-00-0.ravenfs-incremental-dump", files)
        os.utime(part, (1_500_000_000 + n, 1_500_000_000 + n))
    (tmp_path / "IncrementalExport.state.json").write_text('{"LastFileEtag": null}')
    src = open_source(tmp_path)
    got = {f.key: b"".join(f.content.chunks()) for f in src.records()}
    assert got == {"b.txt": b"bee", "a.txt": b"new", "dir/c.txt": b"sea"}
    assert any(f.code == "ravenfs-incremental" for f in src.findings)


# -- the other public 3.0 RavenFS backups (ravendb v3.5, Raven.Tests.FileSystem/Migration/Backups/from-3628) --

PUBLIC_BACKUPS = {  # name -> git blob id in ravendb/ravendb (the fixture ravenfs.voron.3628.zip is source-3628-voron)
    "source-3628-esent.zip": "d4cc3da88ea346f054f34561cae5fcfda4c94048",
    "destination-3628-esent.zip": "a8c1698f728371bceed7a9f792349457c663e16d",
    "destination-3628-voron.zip": "4b5c270f85de81e89be390fea4da3ea9501f4c1e",
}


def public_backup(name: str, tmp_path_factory) -> Path:
    return public_ravendb_file(name, PUBLIC_BACKUPS[name], tmp_path_factory.mktemp("public"))


def read_all(path) -> dict[str, tuple[bytes, str]]:
    src = open_source(path)
    try:
        return {f.key: (b"".join(f.content.chunks()), f.metadata.get("Content-MD5")) for f in src.records()}
    finally:
        src.close()


@pytest.mark.parametrize(("esent", "voron", "count"), [("source-3628-esent.zip", None, 10),
                                                      ("destination-3628-esent.zip", "destination-3628-voron.zip", 20)])
def test_real_esent_backups_read_the_same_files_as_the_voron_ones(esent, voron, count, tmp_path_factory):
    """Esent RavenFS (Data.ravenfs + RFS*.log, replayed by sources/esent) gives the same files, bytes
    matching their Content-MD5, as the Voron backup of the same test run."""
    got = read_all(public_backup(esent, tmp_path_factory))
    other = read_all(public_backup(voron, tmp_path_factory) if voron else real(BACKUP))
    assert len(got) == count and got.keys() == other.keys()
    for key, (data, md5) in got.items():
        assert hashlib.md5(data).hexdigest() == md5 and data == other[key][0], key  # noqa: S324


@pytest.mark.server
def test_real_esent_backup_loads_and_verifies(ravendb, new_database, tmp_path, tmp_path_factory):
    path = public_backup("destination-3628-esent.zip", tmp_path_factory)
    db = new_database("rfs-esent")
    report = Loader(str(path), LoadOptions(url=ravendb.url, database=db, transport="import",
                                           checkpoint=tmp_path / "cp")).run()
    assert report["status"] == "completed"
    with RavenClient(ravendb.url) as client:
        got = server_files(client, db)
    assert {k: v[0] for k, v in got.items()} == {f"files/{k}": hashlib.sha256(d).hexdigest()
                                                  for k, (d, _) in read_all(path).items()}
    assert len(got) == 20 and verify(str(path), ravendb.url, db, "import")["ok"]
