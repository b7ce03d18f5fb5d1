"""The index report ``inspect`` shows before anything is written (target-4x.md §7); the comparison
with what the real server does on 658 indexes is ``test_differential.py::test_index_report_agrees_with_server``."""

from __future__ import annotations

from conftest import real

from ravenmigrate.cli import main
from ravenmigrate.commands.inspect import inspect


def test_inspect_reports_northwind_indexes():
    """LIVE (§7.2): Northwind 3.5 -> 4 read, Raven/DocumentsByEntityName skipped, 3 created."""
    report = inspect(str(real("Northwind_3.5.35168.ravendump")))["indexes"]
    assert report["summary"] == {"read": 4, "create": 3, "rewrite": 0, "rename": 0, "skip": 1, "reject": 0}
    outcomes = {i["name"]: (i["outcome"], i["target"]) for i in report["indexes"]}
    assert outcomes["Raven/DocumentsByEntityName"] == ("skip", None)
    assert outcomes["Orders/ByCompany"] == ("create", "Orders/ByCompany")


def test_inspect_text_shows_rejections(capsys):
    assert main(["inspect", str(real("Indexes_And_Transformers_3.5.ravendump"))]) == 0
    out = capsys.readouterr().out
    assert "indexes in 4.x: 654 created (588 as is, 66 after rewrite, 0 renamed), 1 skipped, 3 rejected, of 658" in out
    assert "reject: af215033-4bb1-4bf8-adce-39b7ba8bf2b0: LoadAttachmentForIndexing does not exist in 4.x" in out
    assert "rewrite: 1375ab4f-565e-439d-bb93-d0e9383e2d2f (load-document)" in out
