"""Typed records from section items (docs/formats/dumps-3x.md §3, §15.9-§15.16)."""

from __future__ import annotations

import binascii
from typing import Any

from ..codecs import jsonvalue
from ..records import (
    Attachment,
    AttachmentDeletion,
    DocumentDeletion,
    Identity,
    Index,
    Position,
    Transformer,
)


class ItemError(ValueError):
    """A section item that does not have the shape 3.x writes; the message says what is wrong."""


def get(obj: dict[str, Any], name: str) -> Any:
    """``obj[name]``, falling back to a case-insensitive match (metadata and items, §5, §15.8)."""
    if name in obj:
        return obj[name]
    lower = name.lower()
    found = None
    for key, value in obj.items():
        if key.lower() == lower:
            found = value  # last wins, like a case-insensitive RavenJObject
    return found


def _object(data: bytes) -> dict[str, Any]:
    value = jsonvalue.loads(data)
    if not isinstance(value, dict):
        raise ItemError(f"expected a JSON object, found {type(value).__name__}")
    return value


def _key(obj: dict[str, Any], name: str = "Key") -> str:
    key = get(obj, name)
    if not isinstance(key, str):
        raise ItemError(f"missing or non-string {name!r}")
    return key


# A large attachment's payload as 3.x writes it, "Data": "<base64>", is decoded straight from the
# record's bytes, and the rest of the record parsed with a short stand-in for it: a payload of
# megabytes is then never made a Python string nor passed through the JSON parser (docs/reader.md).
_STAND_IN = "\x00ravenmigrate:Data"
_STAND_IN_JSON = b'"\\u0000ravenmigrate:Data"'
_PLAIN_FROM = 4096  # smaller records are parsed whole
_JSON_WS = b" \t\r\n"


def _plain_data(data: bytes) -> tuple[dict[str, Any], bytes] | None:
    """The record's object and its decoded payload when its first ``"Data"`` is a member whose
    value is a plain base64 string (valid as :func:`codecs.b64.decode` takes it, so it holds no
    escape and its closing quote is the string's end) and that member is the ``Data`` the record
    ends up with (the last, as :func:`get` reads it; not one nested in ``Metadata``); else None.
    Only a record without a backslash or NUL byte takes the stand-in (an escape of its own), so
    nothing else in it can parse to the stand-in's text."""
    if len(data) < _PLAIN_FROM or b"\\" in data or b"\x00" in data:
        return None
    key = data.find(b'"Data"')
    i = key + 6
    while 0 < i < len(data) and data[i] in _JSON_WS:
        i += 1
    if key < 0 or data[i:i + 1] != b":":
        return None
    i += 1
    while i < len(data) and data[i] in _JSON_WS:
        i += 1
    if data[i:i + 1] != b'"':
        return None
    end = data.find(b'"', i + 1)
    if end < 0:
        return None
    from ..codecs import b64  # here: pybase64 is imported only when a dump has attachments

    try:
        payload = b64.decode(memoryview(data)[i + 1:end])
    except (binascii.Error, ValueError):
        return None
    obj = _object(data[:i] + _STAND_IN_JSON + data[end + 1:])
    return (obj, payload) if get(obj, "Data") == _STAND_IN else None


def attachment(data: bytes, pos: Position, plain: bool = True) -> Attachment:
    """``{Data (base64), Metadata, Key[, Etag]}`` in any key order; ``Etag`` absent (2.x) or null (§3.4).
    ``plain=False``: always parse the record whole (what :func:`_plain_data` must equal; tests)."""
    found = _plain_data(data) if plain else None
    if found is not None:
        return _attachment(found[0], found[1], pos)
    obj = _object(data)
    raw = get(obj, "Data")
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ItemError("attachment 'Data' must be a base64 string")
    from ..codecs import b64  # here: pybase64 is imported only when a dump has attachments

    try:
        payload = b64.decode(raw)
    except (binascii.Error, ValueError) as exc:
        raise ItemError(f"attachment 'Data' is not valid base64 ({exc})") from None
    return _attachment(obj, payload, pos)


def _attachment(obj: dict[str, Any], payload: bytes, pos: Position) -> Attachment:
    metadata = get(obj, "Metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ItemError("attachment 'Metadata' must be an object")
    etag = get(obj, "Etag")
    if etag is not None and not isinstance(etag, str):
        raise ItemError("attachment 'Etag' must be a string or null")
    return Attachment(key=_key(obj), data=payload, metadata=metadata, etag=etag, position=pos)


def _definition(obj: dict[str, Any]) -> dict[str, Any] | None:
    definition = get(obj, "definition")
    if definition is not None and not isinstance(definition, dict):
        raise ItemError("'definition' must be an object or null")
    return definition


def _name(obj: dict[str, Any], definition: dict[str, Any] | None) -> str:
    name = get(obj, "name")
    if name is None and definition is not None:
        name = get(definition, "Name")
    if not isinstance(name, str):
        raise ItemError("missing 'name'")
    return name


def index(data: bytes, pos: Position) -> Index:
    """``{name, definition}``; ``definition`` may be null (§3.2)."""
    obj = _object(data)
    definition = _definition(obj)
    return Index(name=_name(obj, definition), definition=definition, position=pos)


def transformer(data: bytes, pos: Position) -> Transformer:
    """``{name, definition[, lockMode]}``; the name falls back to ``Name`` (§3.3)."""
    obj = _object(data)
    definition = _definition(obj)
    lock_mode = get(obj, "lockMode")
    return Transformer(name=_name(obj, definition), definition=definition, position=pos,
                       lock_mode=lock_mode if isinstance(lock_mode, str) else None)


_INT64 = range(-(1 << 63), 1 << 63)


def identity(data: bytes, pos: Position) -> Identity:
    """``{Key, Value}`` with an Int64 value, as an integer or a numeric string (§3.6)."""
    obj = _object(data)
    value = get(obj, "Value")
    was_string = isinstance(value, str)
    if was_string:
        text = value.strip()
        if not text.lstrip("+-").isdigit() or len(text) > 20:
            raise ItemError(f"identity 'Value' {_short(value)} is not an Int64 integer")
        value = int(text)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise ItemError(f"identity 'Value' must be an Int64 integer or a numeric string, found {_short(value)}")
    if value not in _INT64:
        raise ItemError(f"identity 'Value' {_short(value)} is outside the Int64 range")
    return Identity(key=_key(obj), value=value, position=pos, value_was_string=was_string)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def document_deletion(data: bytes, pos: Position) -> DocumentDeletion:
    """``{Key}`` (§3.5)."""
    return DocumentDeletion(key=_key(_object(data)), position=pos)


def attachment_deletion(data: bytes, pos: Position) -> AttachmentDeletion:
    """``{Key}`` (§3.5)."""
    return AttachmentDeletion(key=_key(_object(data)), position=pos)


BUILDERS = {
    "Attachments": attachment,
    "Indexes": index,
    "Transformers": transformer,
    "Identities": identity,
    "DocsDeletions": document_deletion,
    "AttachmentsDeletions": attachment_deletion,
}
