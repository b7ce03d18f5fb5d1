"""ravenmigrate.verify.compare.diff on hand-built database states (the server-side reading is covered by
tests/test_differential.py)."""

from __future__ import annotations

from ravenmigrate.convert import Deviation
from ravenmigrate.verify.compare import DatabaseState, diff, normalize_index


def _doc(doc_id: str, lm: str = "2015-01-02T03:04:05.0000000Z", **body) -> dict:
    return {**body, "@metadata": {"@id": doc_id, "@collection": "Users", "@change-vector": f"A:{len(doc_id)}-x",
                                  "@last-modified": lm}}


def _state(*docs: dict, identities: dict | None = None) -> DatabaseState:
    return DatabaseState(documents={d["@metadata"]["@id"]: d for d in docs}, identities=identities or {})


def test_identical_states_ignore_change_vectors():
    a = _state(_doc("users/1", Name="a"))
    b = _state(_doc("users/1", Name="a"))
    b.documents["users/1"]["@metadata"]["@change-vector"] = "A:99-other"
    comparison = diff(a, b)
    assert comparison.differences == [] and comparison.counts["documents"] == 1


def test_body_metadata_and_missing_documents_are_failures():
    a = _state(_doc("users/1", Name="a"), _doc("users/2"))
    b = _state(_doc("users/1", Name="b"), _doc("users/3"))
    b.documents["users/1"]["@metadata"]["Extra"] = 1
    kinds = sorted((d.kind, d.key) for d in diff(a, b).failures)
    assert kinds == [("body", "users/1.Name"), ("document-extra", "users/3"), ("document-missing", "users/2"),
                     ("metadata", "users/1.Extra")]


def test_deviations_are_allowed_only_when_they_match():
    a = _state(_doc("child/1"), _doc("t/23", lm="2015-01-02T03:04:05.0000186Z"), identities={"users/": 4})
    b = _state(_doc("parent/1"), _doc("t/23", lm="2015-01-02T03:04:05.1860000Z"),
               identities={"users/": 4, "orders/": 13})
    devs = [Deviation("nested-metadata-id", "parent/1", "child/1", "parent/1"),
            Deviation("last-modified-fff", "t/23", "2015-01-02T03:04:05.0000186Z", "2015-01-02T03:04:05.1860000Z"),
            Deviation("identity-integer", "orders/", None, 13)]
    comparison = diff(a, b, deviations=devs)
    assert comparison.failures == []
    assert sorted(d.allowed_by for d in comparison.allowed) == ["identity-integer", "last-modified-fff",
                                                                 "nested-metadata-id"]
    assert diff(a, b, deviations=devs[:1]).failures  # without the other deviations they fail


def test_ignore_last_modified_for_named_documents():
    a = _state(_doc("files/a", lm="2026-01-01T00:00:00.0000000Z"))
    b = _state(_doc("files/a", lm="2026-01-01T00:00:01.0000000Z"))
    assert diff(a, b).failures and not diff(a, b, ignore_last_modified={"files/a"}).failures


def test_index_definitions_compare_maps_as_a_set():
    base = {"Name": "I", "Type": "Map", "Maps": ["b", "a"], "Fields": {"X": {"Indexing": "Exact", "Analyzer": None}},
            "LockMode": "Unlock", "Priority": "Normal", "Etag": 5}
    other = dict(base, Maps=["a", "b"], Fields={"X": {"Indexing": "Exact"}}, Etag=9)
    assert normalize_index(base) == normalize_index(other)
    assert not diff(DatabaseState(indexes={"I": base}), DatabaseState(indexes={"I": other})).differences
