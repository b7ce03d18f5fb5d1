"""Per-document conversion throughput: pure vs native ``metadata4`` twin on a Northwind-shaped document."""

from __future__ import annotations

import json

import pytest

from ravenmigrate import _twins
from ravenmigrate.convert import documents as documents_module
from ravenmigrate.records import Document, Position

BODY = {"Company": "companies/85", "Employee": "employees/5", "OrderedAt": "1996-07-04T00:00:00.0000000",
        "Lines": [{"Product": f"products/{i}", "PricePerUnit": 14.0, "Quantity": 12, "Discount": 0.0}
                  for i in range(3)], "Freight": 32.38}
META = {"Raven-Entity-Name": "Orders", "Raven-Clr-Type": "Orders.Order, Northwind", "@id": "orders/1",
        "Last-Modified": "2016-08-22T11:23:36.1861726Z", "Raven-Last-Modified": "2016-08-22T11:23:36.1861726",
        "@etag": "01000000-0000-0001-0000-000000000001", "Non-Authoritative-Information": False}
DATA = json.dumps({**BODY, "@metadata": META}, separators=(",", ":")).encode()
START = DATA.index(b"{", DATA.index(b'"@metadata"'))
TWINS = [pytest.param(module, id=kind) for kind, module in _twins.both("metadata4").items()]
DOC = Document("orders/1", DATA, META, (START, len(DATA) - 1), Position("bench", "Docs", 0, 0), True)


@pytest.mark.parametrize("twin", TWINS)
def test_rewrite_metadata(benchmark, twin):
    benchmark(twin.rewrite_metadata, DATA, START, False)


@pytest.mark.parametrize("twin", TWINS)
def test_convert_document(benchmark, twin, monkeypatch):
    from ravenmigrate.convert import Converter

    monkeypatch.setattr(documents_module, "_metadata4", twin)
    converter = Converter()
    benchmark(converter.documents.convert, DOC)
