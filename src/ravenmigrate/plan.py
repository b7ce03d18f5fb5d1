"""What a migration would write, without writing it: ``--dry-run`` of ``load`` and ``convert`` and the
prediction of ``inspect``.

:func:`plan` reads the source, converts every record (``ravenmigrate.convert``) and applies the
selection options (``ravenmigrate.convert.selection``, the transform script included) exactly as
``load`` and ``convert`` do, and counts what would be written, per item type and per collection,
what the 4.x import would not store (with its reason) and what the options leave out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from .records import AttachmentPut4, Delete4, Document4, DocumentRun, Identity4, Index4, Skipped

KINDS = ("documents", "revisions", "attachments", "deletions", "indexes", "identities")


def plan(source: str, *, convert: Any = None, selection: Any = None, source_options: dict[str, Any] | None = None,
         on_item: Callable[[str, Any], None] | None = None,
         progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Counts of what *source* would become. *on_item(kind, item)* sees every item that would be
    written (``kind`` one of :data:`KINDS`; documents as their id, the others as converted records);
    *progress* gets ``{"documents", "bytes"}`` now and then."""
    from .convert import Converter
    from .convert.selection import Selector
    from .sources import open_source

    src = open_source(source, compact=True, runs=True, **(source_options or {}))
    converter = Converter(convert)
    selector = None if selection is None or selection.everything else Selector(selection)
    counts: Counter[str] = Counter()
    collections: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    emit = on_item or (lambda kind, item: None)
    offset = 0
    try:
        for n, record in enumerate(src.records()):
            converted = list(converter.convert(record))
            if selector is not None:
                converted = selector.select(record, converted)
            for item in converted:
                if isinstance(item, DocumentRun):
                    counts["documents"] += len(item)
                    for r in item.results:
                        collections[r[2]] += 1
                        emit("documents", r[0])
                elif isinstance(item, Document4):
                    kind = "revisions" if item.revision_of is not None else "documents"
                    counts[kind] += 1
                    if kind == "documents":
                        collections[item.collection] += 1
                    emit(kind, item.id)
                elif isinstance(item, Skipped):
                    skipped[f"{item.kind}: {item.reason}"] += 1
                else:
                    kind = {AttachmentPut4: "attachments", Delete4: "deletions", Index4: "indexes",
                            Identity4: "identities"}[type(item)]
                    counts[kind] += 1
                    emit(kind, item)
            pos = getattr(record, "position", None)
            if pos is not None and pos.offset > offset:
                offset = pos.offset
            if progress is not None and n % 1000 == 0:
                progress({"documents": counts["documents"], "bytes": offset})
    finally:
        getattr(src, "close", lambda: None)()
    return {"source": str(source), "counts": {k: counts[k] for k in KINDS},
            "collections": dict(collections.most_common()), "not_stored": dict(skipped),
            "filtered": dict(selector.filtered) if selector is not None else {},
            "deviations": dict(converter.deviation_counts)}


def summary(result: dict[str, Any]) -> str:
    """The plan as the dry runs and ``inspect`` print it."""
    rows: list[tuple[str, object]] = [(kind, f"{n:,}") for kind, n in result["counts"].items()]
    for what, n in (result.get("would") or {}).items():
        rows.append((f"would {what.replace('_', ' ')}", ("yes" if n else "no") if isinstance(n, bool) else f"{n:,}"))
    width = max(len(k) for k, _ in rows)
    out = "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)
    if result["collections"]:
        out += "\n  collections: " + ", ".join(f"{c} {n:,}" for c, n in result["collections"].items())
    for title, key in (("not stored (as the 4.x import)", "not_stored"), ("left out (by the options)", "filtered")):
        if result[key]:
            out += f"\n{title}:\n" + "\n".join(f"  {n:>8,}  {what}" for what, n in result[key].items())
    return out
