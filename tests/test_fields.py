"""The record base classes (ravenmigrate.fields): value equality, repr, as_dict, replace, frozen."""

from __future__ import annotations

import pytest

from ravenmigrate.convert import ConvertOptions
from ravenmigrate.records import Document4, Position
from ravenmigrate.sinks.dump4.writer import Dump4Stats


def test_records_compare_by_value_and_type():
    p = Position("a.ravendump", "Docs", 3, 120)
    doc = Document4("users/1", b"{}", "Users", None, p)
    assert doc == Document4("users/1", b"{}", "Users", None, Position("a.ravendump", "Docs", 3, 120))
    assert doc != Document4("users/1", b"{}", "Users", "2016-08-22T11:23:36.1861726Z", p)
    assert doc != ("users/1", b"{}", "Users", None, p)
    assert repr(doc).startswith("Document4(id='users/1', data=b'{}', collection='Users', last_modified=None, ")
    assert doc.as_dict()["source"] is p
    with pytest.raises(TypeError):
        hash(doc)


def test_position_is_frozen_and_hashable():
    p = Position("a.ravendump", "Docs", 3, 120)
    with pytest.raises(AttributeError, match="immutable"):
        p.index = 4
    with pytest.raises(AttributeError, match="immutable"):
        del p.key
    assert {p: 1}[Position("a.ravendump", "Docs", 3, 120)] == 1
    assert p.as_dict() == {"source": "a.ravendump", "section": "Docs", "index": 3, "offset": 120, "key": None}


def test_replace_copies_with_changes_and_keeps_defaults_apart():
    options = ConvertOptions(remove_analyzers=True)
    changed = options.replace(revisions_enabled=False)
    assert (changed.remove_analyzers, changed.revisions_enabled, options.revisions_enabled) == (True, False, True)
    assert changed.now is options.now and callable(changed.now)
    first, second = Dump4Stats(), Dump4Stats()
    first.skipped["attachment"] = 1
    assert second.skipped == {} and first != second
