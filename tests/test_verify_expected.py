"""``verify.expected.Expected``: one small entry per document, the id as written kept for reports."""

from __future__ import annotations

import pytest

from ravenmigrate.records import Delete4, Document4, Position
from ravenmigrate.verify.digests import digests, raw_digests
from ravenmigrate.verify.expected import Expected

LM = "2016-08-22T11:23:36.1861726Z"
AT = Position("x.ravendump", "Docs", 0, 0)


def test_an_entry_holds_both_digests_and_the_last_modified_and_the_cased_id_only_when_needed():
    exp = Expected()
    exp.add(Document4("Users/1", b'{"A":1,"@metadata":{"@collection":"Users"}}', "Users", LM, AT), bulk=False)
    exp.add(Document4("orders/1", b'{"B":2.50,"@metadata":{}}', "Orders", None, AT), bulk=False)
    server = b'{"@metadata":{"@collection":"Users","@id":"x"},"A":1}'  # the same raw body, metadata first
    body, meta = raw_digests(server, 0, len(server), server.index(b"{", 1), server.index(b"}") + 1, False)
    assert exp.documents["users/1"] == body + meta + LM.encode()
    assert meta == digests(server, False)[1]
    orders = b'{"B":2.50,"@metadata":{}}'
    assert exp.documents["orders/1"] == b"".join(raw_digests(orders, 0, len(orders), orders.index(b"{}"), len(orders) - 1, False))
    assert exp.ids == {"users/1": "Users/1"}
    exp.add(Document4("users/1", b'{"A":1}', "@empty", None, AT), bulk=False)  # the same document in 4.x
    assert exp.ids == {} and len(exp.documents["users/1"]) == 32
    exp.add(Document4("Orders/1", b"{}", "@empty", None, AT), bulk=False)
    exp.add(Delete4("ORDERS/1", AT), bulk=False)
    assert set(exp.documents) == {"users/1"} and exp.ids == {}


@pytest.mark.parametrize("after", [1, 10**9], ids=["orjson-when-installed", "jsonvalue-first"])
def test_server_metadata_parsed_whatever_its_numbers(after, monkeypatch):
    """The server's @metadata is parsed by orjson when installed (past SERVER_ORJSON_AFTER), by
    jsonvalue before and for what orjson refuses (a number past a double's range); anything not
    JSON is a located ServerError."""
    from ravenmigrate.codecs.jsonvalue import LazyOrjson
    from ravenmigrate.errors import ServerError
    from ravenmigrate.verify import digests
    from ravenmigrate.verify.stream import metadata

    monkeypatch.setattr(digests, "_SERVER_FAST", LazyOrjson(after))
    doc = b'{"A":1,"@metadata":{"@id":"a/1","Big":1e400,"N":123456789012345678901234567890}}'
    ms = doc.index(b'{"@id"')
    meta = metadata(bytearray(doc), 0, ms, len(doc) - 1, "GET x", 0)
    assert meta["@id"] == "a/1" and meta["N"] == 123456789012345678901234567890
    bad = b'{"A":1,"@metadata":{"@id":}}'
    with pytest.raises(ServerError, match="invalid @metadata at byte 1019"):
        metadata(bytearray(bad), 0, bad.index(b'{"@id"'), len(bad) - 1, "GET x", 1000)
