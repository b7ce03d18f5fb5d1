"""``ravenmigrate convert``: options, summary and --report."""

from __future__ import annotations

import argparse
import json

import pytest
from conftest import real

from ravenmigrate.cli import main
from ravenmigrate.commands.convert import parse_size
from ravenmigrate.sinks.dump4 import layout as layout4


def test_convert_writes_dump_summary_and_report(tmp_path, capsys):
    out, report_path = tmp_path / "nw.ravendbdump", tmp_path / "report.json"
    rc = main(["convert", str(real("Northwind_3.5.35168.ravendump")), "-o", str(out), "--level", "6",
               "--deflater", "zlib", "--report", str(report_path)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "convert completed" in text and "1,059" in text and "transformers do not exist" in text
    report = json.loads(report_path.read_text())
    assert report["counts"]["documents"] == 1059 and report["counts"]["indexes"] == 3
    assert report["format"]["deflater"] == "zlib" and report["format"]["level"] == 6
    assert report["outputs"] == [{"path": str(out), "bytes": out.stat().st_size}]
    assert sum(n for _, n in layout4.layout(layout4.read(out))[1:]) == 1059 + 3 + 1


def test_unreadable_source_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.ravendump"
    bad.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    assert main(["convert", str(bad), "-o", str(tmp_path / "o.ravendbdump")]) == 1
    assert str(bad) in capsys.readouterr().err


@pytest.mark.parametrize("text, size", [("4096", 4096), ("500M", 500 << 20), ("1.5G", 3 << 29), ("2GB", 2 << 30)])
def test_split_sizes(text, size):
    assert parse_size(text) == size


def test_bad_split_size():
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size("lots")


def test_raw_voron_storage_converts(tmp_path, capsys):
    """Raw storage (the Voron source registered with open_source) goes through the same path."""
    out = tmp_path / "voron.ravendbdump"
    assert main(["convert", str(real("northwind.voron.3528.zip")), "-o", str(out), "-q"]) == 0
    assert "1,059" in capsys.readouterr().out
    dump = layout4.read(out)
    docs = [e for e in dump.elements() if e.section == "Docs"]
    assert len(docs) == 1059 and {"companies/1", "orders/830"} <= {e.value["@metadata"]["@id"] for e in docs}


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
def test_full_disk_is_a_clear_error_with_a_report(tmp_path, capsys):
    """A write that fails in the deflate thread (ENOSPC) stops the run with the file named and a report."""
    report = tmp_path / "r.json"
    assert main(["convert", str(real("Northwind_3.5.35168.ravendump")), "-o", "/dev/full", "-q",
                 "--level", "0", "--report", str(report)]) == 1
    err = capsys.readouterr().err
    assert "cannot write /dev/full: No space left on device" in err and "output is incomplete" in err
    rep = json.loads(report.read_text())
    assert rep["status"] == "failed" and "No space left" in rep["error"]


def test_output_that_cannot_be_created_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "missing" / "out.ravendbdump"
    assert main(["convert", str(real("Northwind_3.5.35168.ravendump")), "-o", str(out), "-q"]) == 1
    assert f"cannot create {out}: No such file or directory" in capsys.readouterr().err
