"""Index auto-rewrite: 3.x index definitions RavenDB 4.x rejects, turned into ones it creates
(``docs/indexes.md``).

Each rule is a module with ``NAME``, ``applies(definition)`` (does the 3.x definition hold what the
rule rewrites) and ``apply(definition, context)`` (rewrite it in place, return notes for the
report). :func:`rewrite` runs on a copy of a 3.x definition and only when the caller found that
4.x rejects it as is (``convert.indexes``): an index 4.x accepts is never touched.
"""

from __future__ import annotations

import copy
from typing import Any

from ...fields import Fields
from . import (
    analyzers,
    as_document,
    dynamic_docs,
    empty_map,
    load_document,
    select_many_source,
    spatial,
)
from .collections import CollectionSample
from .texts import functions, map_texts

RULES = (dynamic_docs, select_many_source, as_document, load_document, spatial, empty_map, analyzers)
NAMES = tuple(rule.NAME for rule in RULES)

__all__ = ["RULES", "NAMES", "CollectionSample", "Context", "Rewrite", "functions", "map_texts", "rewrite", "want"]


class Context(Fields):
    """What the rules may consult: the index name and the source's documents (a sample, for the
    collection a ``LoadDocument`` loads)."""

    __slots__ = ("index", "sample")

    def __init__(self, index: str, sample: CollectionSample | None = None) -> None:
        self.index = index
        self.sample = sample if sample is not None else CollectionSample()


class Rewrite(Fields):
    """The rules applied to one definition, their notes, and the definition before and after."""

    __slots__ = ("rules", "notes", "before", "after")

    def __init__(self, rules: list[str], notes: list[str], before: dict[str, Any], after: dict[str, Any]) -> None:
        self.rules = rules
        self.notes = notes
        self.before = before
        self.after = after

    def to_json(self) -> dict[str, Any]:
        return {"rules": self.rules, "notes": self.notes,
                "before": _functions_view(self.before), "after": _functions_view(self.after)}


def rewrite(definition: dict[str, Any], context: Context) -> Rewrite | None:
    """The rules that apply to *definition*, applied to a copy (None when no rule applies)."""
    after = copy.deepcopy(definition)
    applied: list[str] = []
    notes: list[str] = []
    for rule in RULES:
        if rule.applies(after, context):
            applied.append(rule.NAME)
            notes.extend(rule.apply(after, context))
    if not applied:
        return None
    return Rewrite(applied, notes, definition, after)


def want(definition: dict[str, Any], sample: CollectionSample) -> None:
    """Tell *sample* what the rules will ask of the source documents for *definition*."""
    load_document.want(definition, sample)


def _functions_view(definition: dict[str, Any]) -> dict[str, Any]:
    keys = ("Maps", "Map", "Reduce", "Analyzers", "SpatialIndexes")
    return {k: definition[k] for k in keys if definition.get(k) not in (None, {}, [])}
