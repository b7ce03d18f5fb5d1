"""Pure-Python twin ``metadata4``: rewrite one 3.x ``@metadata`` object into its 4.x form.

This is the specification of the per-document hot path (the native twin is ``ext/metadata4.pyx``).
It follows RavenDB 4.x's metadata modifier (docs/formats/import-4x.md §3.2): keys are matched exactly
(case-sensitive, decoded name), kept keys stay in their original order with their value bytes
untouched, ``Raven-Entity-Name`` becomes ``@collection`` and ``Raven-Expiration-Date`` becomes
``@expires``, consumed and dropped keys disappear. The rules apply to every object nested
inside the metadata too (§3.3). Consumed values are reported as events in parse order, so the
caller can apply the order-dependent rules (last one wins, legacy revision change vectors §4).
"""

from __future__ import annotations

from typing import Any

from .jsonbytes import JsonBytesError, decode_key, iter_array, iter_object, scalar

# Dropped keys whose value must be a primitive (docs/formats/import-4x.md §3.2 type rules).
DROPPED = frozenset({
    "@index-score", "Last-Modified", "Raven-Read-Only", "Raven-Document-Revision",
    "Raven-Replication-Source", "Raven-Replication-Version", "Non-Authoritative-Information",
    "Raven-Document-Parent-Revision", "Raven-Replication-Merged-History",
})
# Dropped key whose value must be an array.
DROPPED_ARRAY = "Raven-Replication-History"
# Consumed keys whose value must be a string -> event name.
CONSUMED_STRING = {
    "@id": "id",
    "@flags": "flags",
    "@change-vector": "change-vector",
    "@last-modified": "last-modified",
    "Raven-Last-Modified": "last-modified",
}
RENAMED = {"Raven-Entity-Name": b'"@collection"', "Raven-Expiration-Date": b'"@expires"'}
ETAG = "@etag"
REVISION_STATUS = "Raven-Document-Revision-Status"

Event = tuple[str, Any, bool]
"""``(kind, value, nested)``: kind is id, flags, change-vector, last-modified, etag or status;
``nested`` is False only for members of the top-level ``@metadata`` object itself."""


class MetadataError(JsonBytesError):
    """A metadata value of a type the 4.x import rejects (it faults the whole import, §3.2)."""


def rewrite_metadata(data: bytes, start: int, nested: bool) -> tuple[list[tuple[str, bytes]], list[Event]]:
    """Rewrite the ``@metadata`` object starting at ``data[start]``.

    Returns the kept members as ``(name, b'"name":value')`` in order, and the consumed values as
    events. *nested* marks a ``@metadata`` object that is not the document's own (§3.3).
    """
    events: list[Event] = []
    members = _members(data, start, events, nested)
    return members, events


def _members(data: bytes, start: int, events: list[Event], nested: bool) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for ks, ke, vs, ve in iter_object(data, start):
        name = decode_key(data[ks:ke])
        first = data[vs]
        composite = first == 0x7B or first == 0x5B
        if name in CONSUMED_STRING:
            if first != 0x22:
                raise MetadataError(f"metadata key {name!r} must be a string", vs)
            events.append((CONSUMED_STRING[name], scalar(data[vs:ve]), nested))
        elif name == ETAG:
            if composite:
                raise MetadataError(f"metadata key {name!r} must be a primitive value", vs)
            events.append(("etag", scalar(data[vs:ve]), nested))
        elif name == REVISION_STATUS:
            value = scalar(data[vs:ve])
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise MetadataError(f"metadata key {name!r} must be a string or an integer", vs)
            events.append(("status", value, nested))
        elif name in DROPPED:
            if composite:
                raise MetadataError(f"metadata key {name!r} must be a primitive value", vs)
        elif name == DROPPED_ARRAY:
            if first != 0x5B:
                raise MetadataError(f"metadata key {name!r} must be an array", vs)
        else:
            key = RENAMED.get(name, data[ks:ke])
            out.append(("@collection" if name == "Raven-Entity-Name" else "@expires" if name == "Raven-Expiration-Date"
                        else name, key + b":" + _value(data, vs, ve, events)))
    return out


def _value(data: bytes, vs: int, ve: int, events: list[Event]) -> bytes:
    """A kept value: scalars verbatim, objects/arrays rewritten recursively (still inside metadata)."""
    first = data[vs]
    if first == 0x7B:
        return b"{" + b",".join(m for _, m in _members(data, vs, events, True)) + b"}"
    if first == 0x5B:
        return b"[" + b",".join(_value(data, s, e, events) for s, e in iter_array(data, vs)) + b"]"
    return data[vs:ve]
