"""3.x index definitions -> 4.x ``IndexDefinition`` JSON, and the pre-flight index report (docs/formats/import-4x.md §7).

:func:`convert_index` does what the 4.x legacy import does when reading a definition (§7.1) and
before creating it (§7.2): skip ``Raven/DocumentsByEntityName`` and ``Raven/ConflictDocuments``,
rename ``Auto/...`` to ``Legacy/Auto/...``, rewrite ``DynamicList`` and ``x.__document_id``, and
refuse what the server cannot read. A definition the server would refuse to create
(:mod:`.index_checks`) goes through the rules of :mod:`.index_rewrite` (docs/indexes.md); one it
accepts is never touched. :func:`report` predicts every index's outcome (created as is, after
rewrite, skipped, rejected and why), so ``inspect`` shows it before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..fields import Fields
from ..records import Document, Index, Index4, Skipped
from .index_checks import creation_problem
from .index_rewrite import CollectionSample, Context, rewrite
from .index_rewrite import want as want_for

SKIPPED_NAMES = ("raven/documentsbyentityname", "raven/conflictdocuments")
AUTO_PREFIX = "auto/"
LEGACY_PREFIX = "Legacy/"
LOCK_MODES = ("Unlock", "LockedIgnore", "LockedError")
INDEXING = {"No": "No", "Analyzed": "Search", "NotAnalyzed": "Exact", "Default": "Default"}
STORAGE = ("Yes", "No")
TERM_VECTORS = ("No", "Yes", "WithPositions", "WithOffsets", "WithPositionsAndOffsets")
SPATIAL_KEYS = ("Type", "Strategy", "MaxTreeLevel", "MinX", "MaxX", "MinY", "MaxY", "Units")
_DYNAMIC_LIST = "new Raven.Abstractions.Linq.DynamicList"
_DOCUMENT_ID = re.compile(r"([\w_.]+)\.__document_id")


class IndexReadError(ValueError):
    """The 4.x import cannot read this definition ("Could not read index definition", §7.1)."""


def rewrite_function(text: str) -> str:
    """The 4.1.0 rewrite (§7.1): ``DynamicList`` -> ``DynamicArray``, ``x.__document_id`` -> ``Id(x)``."""
    return _DOCUMENT_ID.sub(r"Id(\1)", text.replace(_DYNAMIC_LIST, "new DynamicArray"))


def _function(text: Any, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise IndexReadError(f"{what} is empty")
    out = rewrite_function(text)
    if "__document_id" in out:
        raise IndexReadError(f"{what} still uses __document_id after the 4.1 rewrite")
    return out


def _enum(value: Any, allowed: Iterable[str], what: str) -> str:
    if value not in allowed:
        raise IndexReadError(f"{what}: unknown value {value!r}")
    return value


def _number(value: Any) -> Any:
    """Spatial bounds are doubles in 4.x; sources parse decimals as ``Decimal`` (JSON-ready floats here)."""
    return float(value) if isinstance(value, Decimal) else value


def read_definition(name: str, definition: dict[str, Any] | None, remove_analyzers: bool = False) -> dict[str, Any]:
    """The 4.x ``IndexDefinition`` for a 3.x definition (§7.1), named *name*; IndexReadError if unreadable."""
    if not isinstance(definition, dict):
        raise IndexReadError("definition is missing")
    lock_mode = definition.get("LockMode")
    lock_mode = "Unlock" if lock_mode is None else _enum(lock_mode, LOCK_MODES, "LockMode")
    maps = definition.get("Maps")
    if not isinstance(maps, list) or not maps:
        raise IndexReadError("no Maps")
    converted_maps = list(dict.fromkeys(_function(m, "map") for m in maps))
    reduce = definition.get("Reduce")
    if reduce is not None:
        reduce = _function(reduce, "reduce")
    fields: dict[str, dict[str, Any]] = {}

    def option(f: str) -> dict[str, Any]:
        return fields.setdefault(f, {})

    for f, analyzer in (definition.get("Analyzers") or {}).items():
        if not remove_analyzers:
            option(f)["Analyzer"] = analyzer
    for f, indexing in (definition.get("Indexes") or {}).items():
        option(f)["Indexing"] = INDEXING[_enum(indexing, INDEXING, f"Indexes[{f}]")]
    for f, spatial in (definition.get("SpatialIndexes") or {}).items():
        option(f)["Spatial"] = {k: _number(spatial[k]) for k in SPATIAL_KEYS if k in (spatial or {})}
    for f, storage in (definition.get("Stores") or {}).items():
        option(f)["Storage"] = _enum(storage, STORAGE, f"Stores[{f}]")
    for f, vector in (definition.get("TermVectors") or {}).items():
        option(f)["TermVector"] = _enum(vector, TERM_VECTORS, f"TermVectors[{f}]")
    for f in definition.get("SuggestionsOptions") or []:
        option(f)["Suggestions"] = True
    for f in definition.get("Suggestions") or {}:
        option(f)["Suggestions"] = True
    return {
        "Name": name,
        "Type": "MapReduce" if reduce is not None else "Map",
        "LockMode": lock_mode,
        "Priority": "Normal",
        "Maps": converted_maps,
        "Reduce": reduce,
        "Fields": fields,
        "Configuration": {},
        "AdditionalSources": {},
        "OutputReduceToCollection": None,
    }


def target_name(name: str) -> str | None:
    """The 4.x index name, or None when the import skips the index (§7.2)."""
    if name.lower() in SKIPPED_NAMES:
        return None
    if name.lower().startswith(AUTO_PREFIX):
        return LEGACY_PREFIX + name
    return name


def convert_index(index: Index, remove_analyzers: bool = False, rewrite_indexes: bool = True,
                  sample: CollectionSample | None = None) -> Index4 | Skipped:
    """What the 4.x legacy import does with one ``Indexes`` element (§7.1, §7.2), after the
    :mod:`.index_rewrite` rules when 4.x would reject the definition as is (``rewrite_indexes``)."""
    definition = index.definition
    if remove_analyzers and isinstance(definition, dict) and definition.get("Analyzers"):
        definition = {**definition, "Analyzers": {}}
    try:
        converted = read_definition(index.name, definition)
    except IndexReadError as exc:
        return Skipped("index", index.name, f"4.x cannot read the definition: {exc}", index.position)
    name = target_name(index.name)
    if name is None:
        return Skipped("index", index.name, "system index 4.x does not import, by design (docs/indexes.md)", index.position)
    converted["Name"] = name
    problem = creation_problem(converted)
    done = None
    if problem and rewrite_indexes:
        done = rewrite(definition, Context(index.name, sample))
        if done is not None:
            try:
                converted = read_definition(index.name, done.after)
            except IndexReadError as exc:
                problem = f"the rewritten definition cannot be read: {exc}"
            else:
                converted["Name"] = name
                problem = creation_problem(converted)
            definition = done.after
    return Index4(name, converted, index.position, definition, done, problem)


def want(index: Index, sample: CollectionSample) -> None:
    """Tell *sample* what the rewrite of *index* will ask of the source documents."""
    if isinstance(index.definition, dict):
        want_for(index.definition, sample)


OUTCOMES = ("create", "rewrite", "skip", "reject")


class IndexOutcome(Fields):
    """One line of the index report: ``outcome`` is ``create`` (as is), ``rewrite`` (created after
    the rules in ``rules``), ``skip`` (system index, by design) or ``reject`` (``reason``)."""

    __slots__ = ("name", "target", "outcome", "reason", "rules", "notes")

    def __init__(self, name: str, target: str | None, outcome: str, reason: str = "",
                 rules: list[str] | None = None, notes: list[str] | None = None) -> None:
        self.name = name
        self.target = target
        self.outcome = outcome
        self.reason = reason
        self.rules = rules or []
        self.notes = notes or []

    @property
    def renamed(self) -> bool:
        return self.target is not None and self.target != self.name

    def to_json(self) -> dict[str, Any]:
        out = {"name": self.name, "target": self.target, "outcome": self.outcome, "reason": self.reason}
        if self.rules:
            out["rules"] = self.rules
            out["notes"] = self.notes
        return out


class IndexReport(Fields):
    __slots__ = ("outcomes",)

    def __init__(self, outcomes: list[IndexOutcome] | None = None) -> None:
        self.outcomes = [] if outcomes is None else outcomes

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def renamed(self) -> int:
        return sum(1 for o in self.outcomes if o.renamed and o.outcome in ("create", "rewrite"))

    def summary(self) -> dict[str, int]:
        return {"read": len(self.outcomes), "create": self.count("create"), "rewrite": self.count("rewrite"),
                "rename": self.renamed, "skip": self.count("skip"), "reject": self.count("reject")}

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "indexes": [o.to_json() for o in self.outcomes]}


def describe(n: dict[str, int]) -> str:
    """One line of a report's summary (predicted outcomes)."""
    return (f"{n['create'] + n['rewrite']:,} created ({n['create']:,} as is, {n['rewrite']:,} after rewrite, "
            f"{n['rename']:,} renamed), {n['skip']:,} skipped, {n['reject']:,} rejected, of {n['read']:,}")


def outcome_of(index: Index, converted: Index4 | Skipped) -> IndexOutcome:
    """The predicted outcome of *index* converted to *converted*."""
    if isinstance(converted, Skipped):
        outcome = "reject" if converted.reason.startswith("4.x cannot read") else "skip"
        return IndexOutcome(index.name, None, outcome, converted.reason)
    done = converted.rewrite
    rules, notes = (done.rules, done.notes) if done is not None else ([], [])
    if converted.problem:
        return IndexOutcome(index.name, converted.name, "reject", converted.problem, rules, notes)
    return IndexOutcome(index.name, converted.name, "rewrite" if done else "create", "", rules, notes)


def predict(index: Index, remove_analyzers: bool = False, rewrite_indexes: bool = True,
            sample: CollectionSample | None = None) -> IndexOutcome:
    """What 4.x will do with this index: create it (maybe renamed, maybe rewritten), skip, or reject it."""
    return outcome_of(index, convert_index(index, remove_analyzers, rewrite_indexes, sample))


def report(records: Iterable[Any], remove_analyzers: bool = False, rewrite_indexes: bool = True) -> IndexReport:
    """The index report over a source's records (documents feed the rewrite's collection sample)."""
    sample = CollectionSample()
    indexes = []
    for record in records:
        if isinstance(record, Index):
            want(record, sample)
            indexes.append(record)
        elif isinstance(record, Document):
            observe(sample, record)
    return IndexReport([predict(i, remove_analyzers, rewrite_indexes, sample) for i in indexes])


def observe(sample: CollectionSample, document: Document) -> None:
    """Show a source document to *sample* (its 3.x collection: ``Raven-Entity-Name``)."""
    if not sample.active:
        return
    metadata = document.metadata if isinstance(document.metadata, dict) else {}
    collection = metadata.get("Raven-Entity-Name") or metadata.get("@collection") or "@empty"
    sample.observe(document.id, str(collection), document.data)
