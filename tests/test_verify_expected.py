"""``verify.documents.Expected``: one small entry per document, the id as written kept for reports."""

from __future__ import annotations

from ravenmigrate.records import Delete4, Document4, Position
from ravenmigrate.verify.documents import Expected, digests

LM = "2016-08-22T11:23:36.1861726Z"
AT = Position("x.ravendump", "Docs", 0, 0)


def test_an_entry_holds_both_digests_and_the_last_modified_and_the_cased_id_only_when_needed():
    exp = Expected()
    exp.add(Document4("Users/1", b'{"A":1,"@metadata":{"@collection":"Users"}}', "Users", LM, AT), bulk=False)
    exp.add(Document4("orders/1", b'{"B":2.50,"@metadata":{}}', "Orders", None, AT), bulk=False)
    body, meta = digests(b'{"@metadata":{"@collection":"Users","@id":"x"},"A":1.0}', False)
    assert exp.documents["users/1"] == body + meta + LM.encode()
    assert exp.documents["orders/1"] == b"".join(digests(b'{"B":2.5}', False))
    assert exp.ids == {"users/1": "Users/1"}
    exp.add(Document4("users/1", b'{"A":1}', "@empty", None, AT), bulk=False)  # the same document in 4.x
    assert exp.ids == {} and len(exp.documents["users/1"]) == 32
    exp.add(Document4("Orders/1", b"{}", "@empty", None, AT), bulk=False)
    exp.add(Delete4("ORDERS/1", AT), bulk=False)
    assert set(exp.documents) == {"users/1"} and exp.ids == {}
