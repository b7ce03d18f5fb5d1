"""Generated 3.5-style dumps: every generator option read back; split parts; incremental folders; resume."""

from __future__ import annotations

import gzip
import os
import shutil
import sys
from pathlib import Path

import pytest
from twins import TWINS, use_twin

from ravenmigrate.codecs.jsonvalue import loads
from ravenmigrate.errors import SourceError
from ravenmigrate.records import Attachment, AttachmentDeletion, Document, DocumentDeletion, Identity
from ravenmigrate.sources import open_source

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "fixtures"))
import generate  # noqa: E402

SAMPLE = REPO / "fixtures" / "sample-3.5.ravendump"
ALL_OPTIONS = dict(docs=400, attachments=9, deletions=5, revisions=3, nested_metadata=True, expiration=True,
                   unicode_ids=True, last_modified_formats=True, integer_identities=True, seed=11)


@pytest.fixture(scope="module")
def everything(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("gen") / "all.ravendump"
    return path, generate.generate(path, **ALL_OPTIONS)


def test_generator_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate.generate(a, docs=200, attachments=3, seed=5)
    generate.generate(b, docs=200, attachments=3, seed=5)
    generate.generate(tmp_path / "c", docs=200, attachments=3, seed=6)
    assert a.read_bytes() == b.read_bytes() != (tmp_path / "c").read_bytes()
    raw = gzip.decompress(a.read_bytes())
    assert raw.startswith(b'{\r\n  "Docs": [\r\n    {\r\n') and raw.endswith(b"\r\n  ]\r\n}")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only, as 3.x on Windows writes


def test_committed_sample_matches_its_generator(tmp_path):
    again = tmp_path / "sample.ravendump"
    generate.generate(again, docs=1500, attachments=12, revisions=3, unicode_ids=True, expiration=True,
                      nested_metadata=True)
    assert again.read_bytes() == SAMPLE.read_bytes()
    assert SAMPLE.stat().st_size < 1 << 20


@pytest.mark.parametrize("twin", TWINS)
def test_every_option_reads_back(everything, twin, monkeypatch):
    use_twin(twin, monkeypatch)
    path, made = everything
    src = open_source(path)
    recs = list(src.records())
    assert src.counts == made["counts"]
    expected = loads(gzip.decompress(path.read_bytes()))
    docs = [r for r in recs if isinstance(r, Document)]
    assert [loads(d.data) for d in docs] == expected["Docs"]
    ids = [d.id for d in docs]
    assert any("/revisions/" in i for i in ids) and any(not i.isascii() for i in ids)
    assert any("Raven-Expiration-Date" in d.metadata for d in docs)
    nested = [d for d in docs if b'"Audit"' in d.data]
    assert nested and all(d.metadata["@id"] == d.id != "nested/1" for d in nested)
    formats = {d.metadata["Last-Modified"][-4:] for d in docs}
    assert "GMT" in {f[-3:] for f in formats} and len(formats) > 6
    atts = [r for r in recs if isinstance(r, Attachment)]
    assert [a.key for a in atts] == [a["Key"] for a in expected["Attachments"]]
    assert any(len(a.data) == 0 for a in atts) and any(len(a.data) > 0 for a in atts)
    assert all(not i.value_was_string for i in recs if isinstance(i, Identity))
    assert sum(isinstance(r, DocumentDeletion) for r in recs) == 5
    assert sum(isinstance(r, AttachmentDeletion) for r in recs) >= 1
    assert src.era == "3.5"


@pytest.mark.parametrize("twin", TWINS)
def test_twins_give_identical_records(everything, twin, monkeypatch):
    path, _ = everything
    use_twin("pure", monkeypatch)
    pure = [(r, r.data if isinstance(r, Document) else None) for r in open_source(path, compact=True).records()]
    use_twin(twin, monkeypatch)
    other = list(open_source(path, compact=True).records())
    assert [r for r, _ in pure] == other


def test_split_parts_read_in_order(tmp_path):
    path = tmp_path / "big.ravendump"
    made = generate.generate(path, docs=1000, attachments=20, attachment_bytes=20000, split_mb=0.06, seed=3)
    assert len(made["files"]) >= 3
    src = open_source(path)
    recs = list(src.records())
    assert src.kind == "split" and src.files == made["files"]
    assert src.counts == made["counts"]
    assert [r.position.source for r in recs] == sorted((r.position.source for r in recs), key=made["files"].index)
    one = tmp_path / "one.ravendump"
    generate.generate(one, docs=1000, attachments=20, attachment_bytes=20000, seed=3)
    assert [getattr(r, "data", None) for r in recs] == [getattr(r, "data", None) for r in open_source(one).records()]


def test_incremental_folder_replay_order_and_skipped_indexes(tmp_path):
    folder = tmp_path / "inc"
    folder.mkdir()
    names = ["2016-08-22-11-00-0.ravendb-incremental-dump", "2016-08-22-10-00-0.ravendb-incremental-dump",
             "2016-08-22-12-00-0.ravendb-incremental-dump"]
    for i, name in enumerate(names):
        generate.generate(folder / name, docs=20 + i, seed=i, hilo=False, system_docs=False)
        os.utime(folder / name, (1_000_000 + i * 10, 1_000_000 + i * 10))  # write order != name order
    (folder / "IncrementalExport.state.json").write_text('{"LastDocEtag": "x"}')
    src = open_source(folder)
    recs = list(src.records())
    assert src.kind == "incremental" and [Path(f).name for f in src.files] == names
    assert sum(isinstance(r, Document) for r in recs) == 20 + 21 + 22
    indexes = [r for r in recs if type(r).__name__ == "Index"]
    assert len(indexes) == 3 and {r.position.source for r in indexes} == {str(folder / names[-1])}
    assert {f.code for f in src.findings} == {"replay-skipped"}
    assert src.counts["Indexes"] == 9  # as they appear in the source
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no \\*.ravendb-incremental-dump"):
        open_source(empty)


def test_periodic_folder_full_then_incremental(tmp_path):
    top = tmp_path / "periodic"
    old, new = top / "2016-08-01-10-00-ravendb-backup", top / "2016-08-22-10-00-ravendb-backup"
    for folder in (old, new):
        folder.mkdir(parents=True)
    generate.generate(old / "2016-08-01-10-00.ravendb-full-dump", docs=5, seed=1)
    generate.generate(new / "2016-08-22-10-00.ravendb-full-dump", docs=30, seed=2)
    generate.generate(new / "2016-08-22-11-00-0.ravendb-incremental-dump", docs=3, seed=3, deletions=2)
    os.utime(old, (1, 1))
    src = open_source(top)
    assert [Path(f).name for f in src.files] == ["2016-08-22-10-00.ravendb-full-dump",
                                                 "2016-08-22-11-00-0.ravendb-incremental-dump"]
    recs = list(src.records())
    assert isinstance(recs[-1], Identity) and any(isinstance(r, DocumentDeletion) for r in recs)


def test_resume_after_a_position(tmp_path):
    path = tmp_path / "r.ravendump"
    generate.generate(path, docs=500, attachments=5, split_mb=0.05, seed=4)
    src = open_source(path)
    full = list(src.records())
    for k in (0, 1, 250, 480, len(full) - 2):
        rest = list(src.records(after=full[k].position))
        assert rest == full[k + 1:]
    shutil.copy(path, tmp_path / "other")
    with pytest.raises(SourceError, match="resume position"):
        list(open_source(tmp_path / "other").records(after=full[-1].position))


def test_demo_sample_inspects():
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "ravenmigrate", "inspect", str(SAMPLE)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "era 3.5" in proc.stdout and "1,500" in proc.stdout


def test_fraction_grows_to_one(tmp_path):
    path = tmp_path / "f.ravendump"
    generate.generate(path, docs=800, split_mb=0.03, seed=8)
    src = open_source(path)
    seen = [src.fraction() for _ in src.records()]
    assert seen == sorted(seen) and seen[0] < 0.5 and src.fraction() == 1.0
