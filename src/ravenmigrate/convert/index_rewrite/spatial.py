"""``SpatialGenerate(...)`` / ``SpatialIndex.Generate(...)`` -> ``CreateSpatialField(...)``.

3.x names the spatial field by the call: ``SpatialGenerate(lat, lng)`` writes ``__spatial`` (3.5
``Constants.DefaultSpatialFieldName``), ``SpatialGenerate("Name", ...)`` writes ``Name``, and the
anonymous member the call sits in (``_``, ``__``) is ignored (``AbstractIndexCreationTask``,
``Raven.Client.Lightweight/Indexes/AbstractIndexCreationTask.cs`` in 3.5). 4.x names it by the
member (``SpatialFieldRewriter``, ``src/Raven.Server/Documents/Indexes/Static/Roslyn/Rewriters/``).
So the member is renamed to the 3.x field name and the call keeps its coordinates or shape; a
strategy and tree level given as arguments become the field's spatial options.
"""

from __future__ import annotations

import re
from typing import Any

from . import csharp
from .texts import functions, uses

NAME = "spatial"
DEFAULT_FIELD = "__spatial"
_CALL = re.compile(r"\b(?:(?:Raven\.Client\.Indexes\.)?AbstractIndexCreationTask\.|this\.)?SpatialGenerate\s*\(|"
                   r"\bSpatialIndex\.Generate\s*\(")
_STRATEGY = re.compile(r"(?:[\w.]*\.)?SpatialSearchStrategy\.(\w+)$")
DEFAULT_LEVELS = {"GeohashPrefixTree": 9, "QuadPrefixTree": 23, "BoundingBox": 0}


def applies(definition: dict[str, Any], context: Any = None) -> bool:
    return uses(definition, _CALL)


def _rewrite_calls(text: str, options: dict[str, dict[str, Any]]) -> tuple[str, dict[str, str]]:
    """(the text with every call rewritten, {old member name: new member name})."""
    renames: dict[str, str] = {}
    while True:
        calls = csharp.code_positions(text, _CALL)
        if not calls:
            return text, renames
        m = calls[0]
        args, end = csharp.arguments(text, m.end() - 1)
        if end < 0:
            return text, renames
        field = csharp.string_value(args[0]) if args else None
        rest = args[1:] if field is not None else args
        field = field or DEFAULT_FIELD
        if len(rest) >= 2 and _STRATEGY.match(rest[1]):
            strategy = _STRATEGY.match(rest[1]).group(1)
            level = int(rest[2]) if len(rest) > 2 and rest[2].isdigit() else DEFAULT_LEVELS.get(strategy, 9)
            options.setdefault(field, {"Type": "Geography", "Strategy": strategy, "MaxTreeLevel": level,
                                       "MinX": -180.0, "MaxX": 180.0, "MinY": -90.0, "MaxY": 90.0,
                                       "Units": "Kilometers"})
            rest = rest[:1]
        text = text[:m.start()] + "CreateSpatialField(" + ", ".join(rest) + ")" + text[end + 1:]
        member = csharp.member_at(text, m.start())
        if member is not None and member[2] != field:
            start, stop, old = member
            text = text[:start] + field + text[stop:]
            renames[old] = field


def _rename_member(text: str, old: str, new: str) -> str:
    return re.sub(r"([{,]\s*)" + re.escape(old) + r"(\s*)=(?![=>])", r"\g<1>" + new + r"\2=", text)


def apply(definition: dict[str, Any], context: Any = None) -> list[str]:
    options: dict[str, dict[str, Any]] = {}
    renames: dict[str, str] = {}
    texts = []
    for text in functions(definition):
        new, found = _rewrite_calls(text, options)
        texts.append((text, new))
        renames.update(found)
    mapping = dict(texts)
    if definition.get("Reduce") and renames:
        # map and reduce output the same fields: a member renamed in one is renamed in all
        for key, value in list(mapping.items()):
            for old, new in renames.items():
                value = _rename_member(value, old, new)
            mapping[key] = value
    if isinstance(definition.get("Maps"), list):
        definition["Maps"] = [mapping.get(m, m) for m in definition["Maps"]]
    if isinstance(definition.get("Map"), str):
        definition["Map"] = mapping.get(definition["Map"], definition["Map"])
    if isinstance(definition.get("Reduce"), str):
        definition["Reduce"] = mapping.get(definition["Reduce"], definition["Reduce"])
    spatial = definition.get("SpatialIndexes") or {}
    for field, opts in options.items():
        spatial.setdefault(field, opts)
    if spatial:
        definition["SpatialIndexes"] = spatial
    notes = [f"spatial field {new} (was member {old})" for old, new in renames.items()]
    notes += [f"spatial field {f}: {o['Strategy']} strategy, tree level {o['MaxTreeLevel']}" for f, o in options.items()]
    return notes or ["SpatialGenerate written CreateSpatialField"]
