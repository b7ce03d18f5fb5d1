"""Creation errors RavenDB 4.x raises for converted 3.x indexes, predicted before loading (docs/formats/import-4x.md §7.2).

The 4.x import reports these as "Could not write index" errors and carries on. Only rules with
a known server error are predicted; anything else is assumed to compile:
  * ``SpatialGenerate`` / ``SpatialIndex.Generate`` (replaced by ``CreateSpatialField`` in 4.x);
  * ``LoadDocument`` without the collection-name argument, or used as a method group;
  * 3.x-only indexing functions (``LoadAttachmentForIndexing``);
  * a ``select new { }`` that outputs no field ("Could not extract any fields");
  * an analyzer type that does not exist in 4.x (3.x ``Raven.*`` analyzers, custom assemblies);
  * ``SpatialClustering``, ``AsDocument``, ``docs["Name"]`` and ``from x in docs.C.SelectMany(...)``;
  * a reduce grouping by a computed key ("Unable to understand expression", 4.x groups by the
    map's fields only).
The rules of :mod:`.index_rewrite` fix most of them (``docs/indexes.md``).
"""

from __future__ import annotations

import re
from typing import Any

from .index_rewrite import analyzers, csharp

_SPATIAL = re.compile(r"\bSpatialGenerate\b|\bSpatialIndex\.Generate\b")
_LOAD_DOCUMENT = re.compile(r"\bLoadDocument\b\s*(<[^<>()]*>)?\s*(\()?")
_LEGACY_FUNCTIONS = re.compile(r"\bLoadAttachmentForIndexing\b|\bSpatialClustering\b|\bAsDocument\b")
_DOCS_INDEXER = re.compile(r'\bdocs\s*\[\s*"')
_SELECT_MANY_SOURCE = re.compile(r"\bfrom\s+@?\w+\s+in\s+docs\.\w+\.SelectMany\(")
_GROUP_BY = re.compile(r"\bgroup\s+@?\w+\s+by\s+")
_MEMBER_PATH = re.compile(r'^(@?\w+(\.@?\w+)*|"(?:[^"\\]|\\.)*")$')
_KEY_MEMBER = re.compile(r"^\s*@?\w+\s*=(?![=>])\s*")
_EMPTY_SELECT = re.compile(r"\bselect\s+new\s*\{\s*\}")


def load_document_problem(text: str) -> str:
    for m in _LOAD_DOCUMENT.finditer(text):
        if m.group(2) is None:
            return "LoadDocument used as a method group (4.x needs LoadDocument(id, collection))"
        if len(csharp.arguments(text, m.end() - 1)[0]) == 1:
            return "LoadDocument without a collection name (4.x needs LoadDocument(id, collection))"
    return ""


def function_problem(text: str) -> str:
    if _SPATIAL.search(text):
        return "SpatialGenerate does not exist in 4.x (use CreateSpatialField)"
    problem = load_document_problem(text)
    if problem:
        return problem
    m = _LEGACY_FUNCTIONS.search(text)
    if m:
        return f"{m.group(0)} does not exist in 4.x"
    if _EMPTY_SELECT.search(text):
        return "the map outputs no field (4.x: Could not extract any fields)"
    if _DOCS_INDEXER.search(text):
        return 'docs["Name"]: 4.x reads the collection only from docs.Name'
    if _SELECT_MANY_SOURCE.search(text):
        return "a map over docs.C.SelectMany(...) (4.x: Indexing function must return an anonymous object)"
    return ""


def group_by_problem(text: str) -> str:
    """4.x groups a reduce by fields of the map output only: ``group r by r.A`` or
    ``group r by new { A = r.A, ... }`` ("Unable to understand expression" otherwise)."""
    for m in csharp.code_positions(text, _GROUP_BY):
        rest = text[m.end():]
        into = re.search(r"\binto\b", rest)
        key = rest[:into.start()].strip() if into else rest.strip()
        if key.startswith("new"):
            brace = key.find("{")
            args, _ = csharp.arguments(key, brace) if brace >= 0 else ([], -1)
            values = [_KEY_MEMBER.sub("", a, count=1) for a in args]
        else:
            values = [key]
        for value in values:
            if not _MEMBER_PATH.match(value.strip()):
                return f"the reduce groups by a computed key ({value.strip()}); 4.x groups by map fields only"
    return ""


def creation_problem(definition: dict[str, Any]) -> str:
    """Why 4.x will refuse to create *definition* (empty string: expected to be created)."""
    for text in [*definition.get("Maps", []), definition.get("Reduce") or ""]:
        problem = function_problem(text)
        if problem:
            return problem
    problem = group_by_problem(definition.get("Reduce") or "")
    if problem:
        return problem
    for name, options in (definition.get("Fields") or {}).items():
        analyzer = (options or {}).get("Analyzer")
        if analyzer and not analyzers.known(analyzer):
            return f"analyzer {analyzer!r} of field {name!r} does not exist in 4.x"
    return ""
