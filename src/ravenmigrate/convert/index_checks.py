"""Creation errors RavenDB 4.x raises for converted 3.x indexes, predicted before loading (docs/formats/import-4x.md §7.2).

The 4.x import reports these as "Could not write index" errors and carries on. Only rules with
a known server error are predicted; anything else is assumed to compile:
  * ``SpatialGenerate`` / ``SpatialIndex.Generate`` (replaced by ``CreateSpatialField`` in 4.x);
  * ``LoadDocument`` without the collection-name argument, or used as a method group;
  * 3.x-only indexing functions (``LoadAttachmentForIndexing``);
  * a ``select new { }`` that outputs no field ("Could not extract any fields");
  * an analyzer type that does not exist in 4.x (3.x ``Raven.*`` analyzers, custom assemblies).
"""

from __future__ import annotations

import re
from typing import Any

_SPATIAL = re.compile(r"\bSpatialGenerate\b|\bSpatialIndex\.Generate\b")
_LOAD_DOCUMENT = re.compile(r"\bLoadDocument\b\s*(<[^<>()]*>)?\s*(\()?")
_LEGACY_FUNCTIONS = re.compile(r"\bLoadAttachmentForIndexing\b")
_EMPTY_SELECT = re.compile(r"\bselect\s+new\s*\{\s*\}")
# Analyzer names 4.x resolves: Lucene.Net types and short Lucene names (StandardAnalyzer, ...).
_KNOWN_ANALYZER = re.compile(r"^(Lucene\.Net\.[\w.]+|\w+)(\s*,\s*Lucene\.Net)?$")


def _top_level_arguments(text: str, open_paren: int) -> int:
    """Number of arguments of the call whose ``(`` is at *open_paren* (-1 if unbalanced)."""
    depth = 0
    args = 0
    empty = True
    i = open_paren
    while i < len(text):
        c = text[i]
        if c == '"':
            empty = False
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return 0 if empty else args + 1
        elif c == "," and depth == 1:
            args += 1
        elif depth == 1 and not c.isspace():
            empty = False
        i += 1
    return -1


def load_document_problem(text: str) -> str:
    for m in _LOAD_DOCUMENT.finditer(text):
        if m.group(2) is None:
            return "LoadDocument used as a method group (4.x needs LoadDocument(id, collection))"
        if _top_level_arguments(text, m.end() - 1) == 1:
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
    return ""


def creation_problem(definition: dict[str, Any]) -> str:
    """Why 4.x will refuse to create *definition* (empty string: expected to be created)."""
    for text in [*definition.get("Maps", []), definition.get("Reduce") or ""]:
        problem = function_problem(text)
        if problem:
            return problem
    for name, options in (definition.get("Fields") or {}).items():
        analyzer = (options or {}).get("Analyzer")
        if analyzer and not _KNOWN_ANALYZER.match(analyzer.strip()):
            return f"analyzer {analyzer!r} of field {name!r} does not exist in 4.x"
    return ""
