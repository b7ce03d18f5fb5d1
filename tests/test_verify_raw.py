"""verify's fast path: documents compared by their raw bodies, the canonical text deciding only
where the raw bodies differ (docs/loading.md, "verify")."""

from __future__ import annotations

import json

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.verify.digests import digests, metadata_member, raw_digests

NORTHWIND = "Northwind_3.5.35168.ravendump"


def _raw(doc: bytes, bulk: bool = False) -> tuple[bytes, bytes] | None:
    ms = doc.find(b"{", doc.find(b'"@metadata"')) if b'"@metadata"' in doc else -1
    depth, me = 0, -1
    for i in range(ms, len(doc)) if ms >= 0 else ():
        depth += {0x7B: 1, 0x7D: -1}.get(doc[i], 0)
        if depth == 0:
            me = i + 1
            break
    return raw_digests(doc, 0, len(doc), ms, me, bulk)


def test_the_metadata_member_is_left_out_wherever_it_stands():
    spaced = b'{"A":1,"B":"x" , "@metadata" : {"@collection":"Users"} }'
    assert metadata_member(spaced, 0, spaced.index(b'{"@c'), spaced.rindex(b"} ")) == (15, spaced.rindex(b"} "))
    spaced = b'{ "@metadata" :{} , "A":1}'
    assert metadata_member(spaced, 0, spaced.index(b"{}"), spaced.index(b"{}") + 2) == (2, 19)
    last = b'{"A":1,"B":"x","@metadata":{"@collection":"Users"}}'
    first = b'{"@metadata":{"@collection":"Users","@id":"users/1"},"A":1,"B":"x"}'
    assert _raw(last) == _raw(first) == _raw(b'{"A":1,"B":"x","@metadata":{"@collection":"Users","@flags":"X"}}')
    only = b'{"@metadata":{"@collection":"Users"}}'
    assert _raw(only)[0] == _raw(b'{"@metadata":{}}')[0] != _raw(last)[0]
    assert _raw(last)[1] == digests(last, False)[1] != _raw(only[:-2] + b',"Raven-X":1}}')[1]


def test_no_fast_pair_without_a_literal_metadata_object():
    assert _raw(b'{"A":1}') is None
    doc = b'{"A":1,"@metadata":null}'
    assert raw_digests(doc, 0, len(doc), doc.index(b"null"), len(doc) - 1, False) is None
    escaped = b'{"A":1,"\\u0040metadata":{"@collection":"Users"}}'
    assert metadata_member(escaped, 0, escaped.index(b'{"@c'), len(escaped) - 1) is None


def test_raw_bodies_differ_where_canonical_ones_agree():
    """Formatting alone changes the raw digest (then the canonical text decides), never a value alone
    unnoticed: the raw digest of a different value differs too."""
    a, b = b'{"A":1.0,"@metadata":{}}', b'{"A":1,"@metadata":{}}'
    assert _raw(a)[0] != _raw(b)[0] and digests(a, False) == digests(b, False)
    assert _raw(b'{"A":2,"@metadata":{}}')[0] != _raw(b)[0]


def _verify(url: str, db: str, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    rc = cli.main(["verify", str(real(NORTHWIND)), "--url", url, "-d", db, "--json"])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.server
def test_formatting_is_never_a_difference_and_a_changed_value_always_is(ravendb, new_database, tmp_path, capsys):
    """On the real 4.1: the server returns the converted bodies byte for byte (the fast path); a
    document stored again with its properties reversed and a string escaped differently (raw bodies
    differ, values equal) is reported for its new @last-modified only; one changed value is reported as a
    body difference, exactly that document."""
    db = new_database("rawfast")
    assert cli.main(["load", str(real(NORTHWIND)), "--url", ravendb.url, "-d", db, "-q",
                     "--report", str(tmp_path / "load.json")]) == 0
    rc, result = _verify(ravendb.url, db, capsys)
    assert rc == 0 and result["ok"] and result["documents"]["found"] == result["documents"]["expected"]
    client = RavenClient(ravendb.url)
    doc = client.get_document(db, "employees/2")
    reordered = dict(reversed(list(doc.items())))
    body = json.dumps(reordered, ensure_ascii=True).replace('"Andrew"', '"\\u0041ndrew"').encode()
    assert b"\\u0041ndrew" in body
    client.request("PUT", f"/databases/{db}/docs?id=employees/2", body, {"Content-Type": "application/json"})
    names = [k for k in client.get_document(db, "employees/2") if k != "@metadata"]
    assert names == [k for k in reordered if k != "@metadata"] != [k for k in doc if k != "@metadata"]  # another raw body
    rc, result = _verify(ravendb.url, db, capsys)
    assert [(d["id"], [w[:14] for w in d["what"]]) for d in result["documents"]["different_items"]] == [
        ("employees/2", ["@last-modified"])]  # stored again now; its body and metadata are the same
    changed = client.get_document(db, "employees/3")
    changed["Address"]["PostalCode"] = changed["Address"]["PostalCode"] + "0"
    client.put_document(db, "employees/3", changed)
    rc, result = _verify(ravendb.url, db, capsys)
    assert rc == 1 and not result["ok"]
    assert sorted((d["id"], [w[:14] for w in d["what"]]) for d in result["documents"]["different_items"]) == [
        ("employees/2", ["@last-modified"]), ("employees/3", ["body", "@last-modified"])]
