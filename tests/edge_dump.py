"""A hand-written 3.x dump that exercises every conversion rule of target-4x.md §3-§8 (written by the tests)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path


def _meta(doc_id: str, **extra) -> dict:
    return {"@id": doc_id, **extra}


def documents() -> list[dict]:
    lm = {"Raven-Last-Modified": "2016-08-22T11:23:36.1861726", "Last-Modified": "2016-08-22T11:23:36.1861726Z"}
    etag = "01000000-0000-0001-0000-0000000000{:02X}"
    docs = [
        {"Name": "Ünïcødé ✓", "N": 1.50, "Big": 12345678901234567890, "Tiny": 1e-7,
         "@metadata": _meta("users/1", **{"Raven-Entity-Name": "Users", "Raven-Clr-Type": "App.User, App",
                                           "@etag": etag.format(1), "Non-Authoritative-Information": False,
                                           "Raven-Expiration-Date": "2099-01-01T00:00:00.0000000Z",
                                           "Raven-Replication-Source": "abc", "Raven-Replication-Version": 3,
                                           "Raven-Replication-History": [{"Raven-Replication-Version": 1,
                                                                          "Raven-Replication-Source": "x"}],
                                           "Raven-Read-Only": True, "Custom": {"Raven-Entity-Name": "inner"},
                                           **lm})},
        {"Max": 32, "@metadata": _meta("Raven/Hilo/users", **lm)},
        {"Max": 1, "@metadata": _meta("raven/hilo/lower", **lm)},
        {"Max": 2, "@metadata": _meta("Raven/Hilo/orders", **{"Raven-Entity-Name": "Hilos", **lm})},
        {"X": 1, "@metadata": _meta("Raven/Backup/Periodic/Setup", **lm)},
        {"X": 1, "@metadata": _meta("Raven/Replication/Destinations", **lm)},
        {"X": 1, "@metadata": _meta("Raven/Replication/Sources/" + "0" * 36, **lm)},
        {"X": 1, "@metadata": _meta("Raven/Replication/Sources/abc", **lm)},
        {"X": 1, "@metadata": _meta("Raven/Studio/Settings", **lm)},
        {"Title": "日本語 ключ", "@metadata": _meta("книги/1", **{"Raven-Entity-Name": "Книги", **lm})},
        {"Old": True, "@metadata": _meta("old/1", **{"Raven-Entity-Name": "Olds",
                                                      "Raven-Expiration-Date": "2001-01-01T00:00:00.0000000Z", **lm})},
        # the six last-modified shapes (§3.4)
        {"F": 19, "@metadata": _meta("times/19", **{"Raven-Entity-Name": "Times",
                                                     "Raven-Last-Modified": "2015-01-02T03:04:05"})},
        {"F": 20, "@metadata": _meta("times/20", **{"Raven-Entity-Name": "Times",
                                                     "Raven-Last-Modified": "2015-01-02T03:04:05Z"})},
        {"F": 23, "@metadata": _meta("times/23", **{"Raven-Entity-Name": "Times",
                                                     "Raven-Last-Modified": "2015-01-02T03:04:05.186"})},
        {"F": 24, "@metadata": _meta("times/24", **{"Raven-Entity-Name": "Times",
                                                     "@last-modified": "2015-01-02T03:04:05.186Z"})},
        {"F": 27, "@metadata": _meta("times/27", **{"Raven-Entity-Name": "Times",
                                                     "Raven-Last-Modified": "2015-01-02T03:04:05.1234567"})},
        {"F": 28, "@metadata": _meta("times/28", **{"Raven-Entity-Name": "Times",
                                                     "@last-modified": "2015-01-02T03:04:05.1234567Z"})},
        # no last-modified: the server carries the previous one over (§3.4)
        {"F": 0, "@metadata": _meta("things/1", **{"Raven-Entity-Name": "Things",
                                                    "Last-Modified": "2015-01-02T03:04:05Z"})},
        # nested @metadata in the body, after the top-level one (§3.3)
        {"@metadata": _meta("parent/1", **{"Raven-Entity-Name": "Parents", **lm}),
         "Child": {"@metadata": {"@id": "child/1", "Raven-Entity-Name": "Kids"}, "V": [1, {"a": None}]}},
        # nested @metadata before the top-level one: the top-level id wins on the server too
        {"Child": {"@metadata": {"@id": "child/2", "Raven-Entity-Name": "Kids"}},
         "@metadata": _meta("parent/2", **{"Raven-Entity-Name": "Parents", **lm})},
        # 3.x replication conflicts are plain documents (§4)
        {"Conflicts": ["conf/1/conflicts/a", "conf/1/conflicts/b"],
         "@metadata": _meta("conf/1", **{"Raven-Replication-Conflict": True, **lm})},
        {"V": "a", "@metadata": _meta("conf/1/conflicts/a", **{"Raven-Replication-Conflict-Document": True,
                                                                "Raven-Entity-Name": "Confs", **lm})},
        # collections differing in case share one collection (§3.1 step 9)
        {"C": 1, "@metadata": _meta("Orders/1", **{"Raven-Entity-Name": "orders", **lm})},
        {"C": 2, "@metadata": _meta("orders/2", **{"Raven-Entity-Name": "Orders", **lm})},
        {"C": 3, "@metadata": _meta("gone/1", **{"Raven-Entity-Name": "Gone", **lm})},
        {"C": 4, "@metadata": _meta("unflagged", **{"@flags": "HasCounters, Bogus", **lm})},
        # versioning markers without any revision in the file (revisions stay disabled, §4)
        {"V": 2, "@metadata": _meta("cars/1", **{"Raven-Entity-Name": "Cars", "Raven-Document-Revision": 2,
                                                  "Raven-Document-Revision-Status": "Current", **lm})},
        {"V": 1, "@metadata": _meta("cars/9/weird", **{"Raven-Entity-Name": "Cars",
                                                        "Raven-Document-Revision-Status": "Historical",
                                                        "@etag": "01000000-0000-0001-0000-000000000099", **lm})},
        {"V": 0, "@metadata": _meta("nulls/1", **{"Raven-Entity-Name": None, "Raven-Document-Revision-Status": 1,
                                                   **lm})},
    ]
    return docs


def write(path: Path) -> Path:
    """Write the dump (gzip JSON, legacy layout) to *path*."""
    blob = b"hello attachment \x00\x01\x02 bytes"
    dump = {
        "Indexes": [
            {"name": "Auto/Users/ByName", "definition": {"Name": "Auto/Users/ByName", "LockMode": "Unlock",
             "Map": "from doc in docs.Users select new { doc.Name }", "Maps": ["from doc in docs.Users select new { doc.Name }"],
             "Reduce": None, "Stores": {"Name": "Yes"}, "Indexes": {"Name": "Analyzed"}, "Analyzers": {},
             "SortOptions": {"Name": "String"}, "SuggestionsOptions": ["Name"], "TermVectors": {"Name": "Yes"},
             "SpatialIndexes": {}, "Fields": ["Name"], "Type": "Map"}},
            {"name": "Users/ById", "definition": {"LockMode": "LockedIgnore",
             "Maps": ["from doc in docs.Users select new { Id = doc.__document_id, L = new Raven.Abstractions.Linq.DynamicList(doc.Tags) }"],
             "Reduce": None, "Indexes": {"Id": "NotAnalyzed"}}},
            {"name": "Raven/ConflictDocuments", "definition": {"Maps": ["from doc in docs select new { doc.X }"]}},
            {"name": "Bad/StillDocId", "definition": {"Maps": ["from doc in docs select new { I = doc[\"__document_id\"] }"]}},
            {"name": "Bad/Compress", "definition": {"Maps": ["from doc in docs select new { doc.X }"],
                                                     "Stores": {"X": "Compress"}}},
            {"name": "Bad/Spatial", "definition": {"Maps": ["from doc in docs.Shops select new { _ = SpatialGenerate(doc.Lat, doc.Lng) }"]}},
            {"name": "Bad/Load", "definition": {"Maps": ["from doc in docs.Orders select new { C = LoadDocument(doc.Company).Name }"]}},
        ],
        "Transformers": [{"name": "T", "definition": {"TransformResults": "from r in results select r"}}],
        "Docs": documents(),
        "Attachments": [
            {"Key": "images/1.png", "Etag": "02000000-0000-0001-0000-000000000001", "Data": base64.b64encode(blob).decode(),
             "Metadata": {"Content-Type": "image/png", "Raven-Replication-Version": 7, "Last-Modified": "x",
                          "Raven-Last-Modified": "2015-01-02T03:04:05", "Nested": {"Raven-Entity-Name": "N"}}},
            {"Key": "same/content", "Data": base64.b64encode(blob).decode(), "Metadata": {}},
            {"Key": "tmp.deleting", "Data": "", "Metadata": {}},
            {"Key": "marked", "Data": "", "Metadata": {"Raven-Delete-Marker": True}},
            {"Key": "removed", "Data": base64.b64encode(b"x").decode(), "Metadata": {}},
        ],
        "DocsDeletions": [{"Key": "gone/1", "Etag": "x"}, {"Key": "never/existed"}],
        "AttachmentsDeletions": [{"Key": "removed"}],
        "Identities": [{"Key": "users/", "Value": "42"}, {"Key": "Raven/Identities/Foo", "Value": "7"},
                       {"Key": "orders/", "Value": 13}],
    }
    path.write_bytes(gzip.compress(json.dumps(dump, ensure_ascii=False).encode()))
    return path


def _revision(doc_id: str, n: int, etag: int, status: str = "Historical", lm: str | None = "2017-10-23T13:16:38.1253337",
              collection: str = "Users") -> dict:
    meta = {"Raven-Entity-Name": collection, "Raven-Document-Revision-Status": status, "@id": doc_id,
            "@etag": f"01000000-0000-0001-0000-{etag:012X}"}
    if status == "Historical":
        meta["Raven-Read-Only"] = True
    if lm is not None:
        meta["Raven-Last-Modified"] = lm
    return {"Name": "v", "Version": n, "@metadata": meta}


def write_revisions(path: Path) -> Path:
    """A dump with versioning data in two ``Docs`` sections with another section between them (a
    repeated section restarts the server's revision counter and last-modified carry-over,
    target-4x.md §2, §3.4, §4)."""
    first = [
        {"Id": "DefaultConfiguration", "MaxRevisions": 5, "Exclude": False,
         "@metadata": {"@id": "Raven/Versioning/DefaultConfiguration", "Raven-Last-Modified": "2017-10-23T13:15:37.8618667"}},
        _revision("users/1/revisions/1", 1, 3),
        _revision("users/1/revisions/2", 2, 5),
        _revision("users/1", 2, 6, "Current"),
        _revision("users/9/weird", 1, 7),
        _revision("orphans/1/revisions/1", 1, 8, collection="Orphans"),
    ]
    second = [
        _revision("plain/1", 1, 20, "Current", lm=None, collection="Plains"),
        _revision("users/2/revisions/1", 1, 0x31),
        _revision("users/2", 1, 0x32, "Current"),
    ]
    text = ('{"Docs":' + json.dumps(first) + ',"Identities":[{"Key":"users/1/revisions/","Value":"2"}]'
            ',"Docs":' + json.dumps(second) + "}")
    path.write_bytes(gzip.compress(text.encode()))
    return path
