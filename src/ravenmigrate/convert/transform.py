"""``--transform-script``: RavenDB's smuggler ``TransformScript``, applied locally.

The import transport hands the script to the server (``TransformScript`` in the import options);
bulk insert and ``convert`` run the same patch here, in an embedded JavaScript engine, with the
server's semantics (docs/formats/import-4x.md §3.1 "TransformScript semantics"): the script is the
body of a function called with ``this`` bound to the converted document (its ``@metadata`` holds
``@collection``, ``@expires`` and the kept 3.x keys), it changes ``this`` in place, and
``throw 'skip'`` drops the document. The id, flags and last-modified stay those read from the file:
``@id``, ``@last-modified``, ``@change-vector``, ``@flags`` and ``@index-score`` of the top-level
``@metadata`` keep their values from before the script; a changed ``@collection`` moves the
document.

Numbers: the server writes back the original value of every property the script did not change
(the blittable keeps its text, ``14.0`` stays ``14.0``). JavaScript numbers are doubles, so the
documents go through the engine as JSON and, on the way back, any number equal to the original at
the same place keeps the original's text (also integers beyond 2^53).

Engine: ``quickjs`` (QuickJS). Measured against ``mini-racer`` (V8) on the same 2 000 Northwind-like
orders and a rename-and-skip script (``benchmarks/transform_engines.py``): per document in batches
of 2 000 both cost about 20 µs (JSON in and out dominates), but a call into V8 costs about 0.75 ms
against 0.03 ms, and documents that are not part of a run cross one by one. QuickJS is also a
6 MB extension against V8's 80 MB. Documents of a run cross in one call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..errors import RavenMigrateError

RESERVED = ("@id", "@last-modified", "@change-vector", "@flags", "@index-score")
_ERROR = "\u0000error"

SAME = "\u0000same"
_WRAPPER = """
var __ravenmigrate_transform = function () {
%s
};
function __ravenmigrate_diff(o, r) {
    var same = "\\u0000same";
    if (o === r) return same;
    if (r === null || o === null || typeof r !== "object" || typeof o !== "object"
        || Array.isArray(r) !== Array.isArray(o)) return r;
    var all = true, out, i, k, d;
    if (Array.isArray(r)) {
        out = new Array(r.length);
        if (r.length !== o.length) all = false;
        for (i = 0; i < r.length; i++) {
            d = i < o.length ? __ravenmigrate_diff(o[i], r[i]) : r[i];
            if (d !== same) all = false;
            out[i] = d;
        }
    } else {
        out = {};
        var ko = Object.keys(o), kr = Object.keys(r);
        if (ko.length !== kr.length) all = false;
        for (i = 0; i < kr.length; i++) {
            k = kr[i];
            if (ko[i] !== k) all = false;
            d = Object.prototype.hasOwnProperty.call(o, k) ? __ravenmigrate_diff(o[k], r[k]) : r[k];
            if (d !== same) all = false;
            out[k] = d;
        }
    }
    return all ? same : out;
}
function __ravenmigrate_run(json, diff) {
    var docs = JSON.parse(json), before = diff ? JSON.parse(json) : null, out = new Array(docs.length);
    for (var i = 0; i < docs.length; i++) {
        try {
            __ravenmigrate_transform.call(docs[i]);
            out[i] = diff ? __ravenmigrate_diff(before[i], docs[i]) : docs[i];
        } catch (e) {
            var m = (e !== null && typeof e === "object" && "message" in e) ? e.message : e;
            out[i] = String(m).toLowerCase() === "skip" ? null : {"\\u0000error": String(e)};
        }
    }
    return JSON.stringify(out);
}
"""


class TransformError(RavenMigrateError):
    """The script failed on a document (the server would fault the import)."""


class TransformScript:
    """One script, compiled once; :meth:`apply` patches a batch of converted documents."""

    def __init__(self, script: str, name: str = "--transform-script") -> None:
        self.script = script
        self.name = name
        self._run: Any = None

    def _function(self) -> Any:
        if self._run is None:
            try:
                import quickjs
            except ImportError:
                raise RavenMigrateError(
                    f"{self.name} outside the import transport needs an embedded JavaScript engine: "
                    f"pip install 'ravenmigrate[transform]' (quickjs)") from None
            ctx = quickjs.Context()
            try:
                ctx.eval(_WRAPPER % self.script)
            except quickjs.JSException as exc:
                raise TransformError(f"{self.name}: the script does not compile: {exc}") from None
            self._ctx = ctx
            self._run = ctx.get("__ravenmigrate_run")
        return self._run

    def apply(self, ids: Sequence[str], datas: Sequence[bytes]) -> list[bytes | None]:
        """The patched data of each document (compact JSON, ``@metadata`` last), or None when the
        script skipped it. *ids* name the documents in errors."""
        payload = "[" + ",".join(d.decode("utf-8") for d in datas) + "]"
        diff = "\\u0000" not in payload  # the markers cannot be mistaken for the documents' own strings
        try:
            text = self._function()(payload, diff)
            results = json.loads(text, parse_float=Decimal)
        except TransformError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise TransformError(f"{self.name} failed on documents {ids[0]!r}..{ids[-1]!r}: {exc}") from None
        out: list[bytes | None] = []
        fast = "\\u0001" not in text
        for doc_id, data, result in zip(ids, datas, results, strict=True):
            if result is None or result == SAME:  # skipped, or not changed at all
                out.append(None if result is None else data)
                continue
            if not isinstance(result, dict) or _ERROR in result:
                message = result.get(_ERROR) if isinstance(result, dict) else "the script replaced the document"
                raise TransformError(f"{self.name} failed on document {doc_id!r}: {message}")
            original = json.loads(data, parse_float=Decimal)
            merged = _restore(original, _merge(original, result) if diff else _keep_numbers(original, result))
            out.append((_dumps(merged) if fast else _encode(merged)).encode("utf-8"))
        return out


def collection_of(data: bytes) -> str:
    """``@metadata.@collection`` of patched data (absent or not a string: ``@empty``, §3.1 step 9)."""
    meta = json.loads(data).get("@metadata")
    value = meta.get("@collection") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else "@empty"


def _restore(original: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The script's result with the reserved metadata put back, ``@metadata`` last."""
    meta = result.pop("@metadata", None)
    meta = dict(meta) if isinstance(meta, dict) else {}
    before = original.get("@metadata") if isinstance(original.get("@metadata"), dict) else {}
    for key in RESERVED:
        meta.pop(key, None)
        if key in before:
            meta[key] = before[key]
    result["@metadata"] = meta
    return result


def _merge(original: Any, diff: Any) -> Any:
    """The engine's result where every part it marks unchanged is the original value (exact numbers)."""
    if diff == SAME:
        return original
    if isinstance(diff, dict):
        if not isinstance(original, dict):
            return diff
        return {k: _merge(original[k], v) if k in original else v for k, v in diff.items()}
    if isinstance(diff, list) and isinstance(original, list):
        return [_merge(original[i], v) if i < len(original) else v for i, v in enumerate(diff)]
    return diff


def _keep_numbers(original: Any, result: Any) -> Any:
    """:func:`_merge` for documents holding a NUL character (no markers): numbers equal to the original
    at the same place keep the original."""
    if isinstance(result, dict):
        if not isinstance(original, dict):
            return result
        return {k: _keep_numbers(original.get(k), v) if k in original else v for k, v in result.items()}
    if isinstance(result, list):
        if not isinstance(original, list):
            return result
        return [_keep_numbers(original[i], v) if i < len(original) else v for i, v in enumerate(result)]
    if _is_number(result) and _is_number(original) and float(result) == float(original):
        return original
    return result


def _is_number(v: Any) -> bool:
    return isinstance(v, int | Decimal) and not isinstance(v, bool)


_MARKED = re.compile(r'"\\u0001([^"\\]*)\\u0001"')


def _dumps(value: Any) -> str:
    """:func:`_encode` at the C encoder's speed: each Decimal goes out as a marked string, unmarked after."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_mark)
    return _MARKED.sub(r"\1", text)


def _mark(value: Any) -> str:
    if isinstance(value, Decimal):
        return "\u0001" + str(value) + "\u0001"
    raise TypeError(f"not JSON: {type(value).__name__}")


def _encode(value: Any) -> str:
    """Compact JSON; a Decimal keeps its text (the original's, or the engine's shortest double)."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _encode(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
