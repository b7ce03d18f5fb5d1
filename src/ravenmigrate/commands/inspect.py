"""``ravenmigrate inspect SRC``: what a source holds, before any conversion.

Counts per 3.x section (items as they appear in the source) and per collection, sizes, the writer
era, and warnings about what RavenDB 4.x's import will treat specially (docs/formats/import-4x.md §3, §7, §8).

The common documents of an export come in runs (the reader's native lane, as for ``convert``) and
are counted by ``docrun.tally`` without a Python object per document; the report is the same as
when every document is read one by one (``runs=False``; ``tests/test_inspect_runs.py``). The
reading runs under ``threads.responsive`` as ``convert`` does (the inflate thread's hand-off,
buffers reused instead of mapped afresh).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .. import _twins
from ..convert import Converter
from ..convert.index_rewrite import CollectionSample
from ..convert.indexes import IndexReport, describe, observe, predict, want
from ..records import (
    SECTIONS,
    Attachment,
    AttachmentDeletion,
    Document,
    DocumentDeletion,
    DocumentRun,
    File,
    Identity,
    Index,
    Transformer,
)
from ..rejects import Rejects
from ..sources import open_source
from ..sources.items import get
from ..sources.live3x import is_live, is_server, listing
from ..sources.live3x import options as live_options
from ..sources.ravenfs.summary import FileSystemSummary
from ..sources.voron import options as voron_options
from ..threads import responsive
from ._options import add_index_options, add_selection, selection_from

_SECTION_OF = {Document: "Docs", Attachment: "Attachments", Index: "Indexes", Transformer: "Transformers",
               Identity: "Identities", DocumentDeletion: "DocsDeletions", AttachmentDeletion: "AttachmentsDeletions"}
# Index names 4.x's import skips (docs/formats/import-4x.md §7.2).
SKIPPED_INDEXES = ("raven/documentsbyentityname", "raven/conflictdocuments")
_NO_COLLECTION = ("documents without Raven-Entity-Name go to the 4.x @empty collection "
                  "(docs/formats/import-4x.md §3.2)")


def register(sub) -> None:
    p = sub.add_parser("inspect", help="count what a 3.x export (or other source) holds, detect its era")
    p.add_argument("source", help="a .ravendump/.dump/JSON export, a split export's first file, or a folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--salvage", action="store_true", help="skip bad records instead of stopping at the first")
    add_index_options(p)
    voron_options.add_arguments(p)
    live_options.add_arguments(p)
    add_selection(p)
    p.set_defaults(func=run)


def inspect(path: str, *, salvage: bool = False, runs: bool = True, index_rewrite: bool = True,
            remove_analyzers: bool = False, **options: Any) -> dict[str, Any]:
    """Read the whole source once and summarise it (the ``--json`` report).

    *runs*: common documents counted in runs (the same report, faster). *options* reach
    raw-storage sources (``journals_path``, ``compression``, ``encryption``). The index prediction
    comes after every record: the rewrite learns collections from the documents.
    """
    src = open_source(path, salvage=salvage, runs=runs, **options)
    # Documents off the run lane go through the converter too, so inspect refuses what convert and load
    # refuse (one validation, docs/reliability.md); --salvage lists them instead.
    refused = Rejects(limit=-1) if salvage else None
    converter = Converter(rejects=refused)
    tally = _twins.load("docrun").tally if runs else None  # registered by the reader open_source imports
    collections: dict[str, int] = {}
    sizes = {"documents_bytes": 0, "attachments_bytes": 0, "largest_document": None, "largest_attachment": None}
    warn: dict[str, dict[str, Any]] = {}
    indexes = IndexReport()
    sample = CollectionSample()
    index_records: list[Index] = []

    def warning(code: str, message: str, examples: list[str], count: int = 1) -> None:
        w = warn.setdefault(code, {"code": code, "message": message, "count": 0, "examples": []})
        w["count"] += count
        w["examples"].extend(examples[:5 - len(w["examples"])])

    seen = dict.fromkeys(SECTIONS, 0)
    files: FileSystemSummary | None = None
    with responsive():  # the inflate thread's hand-off and buffer reuse, as in convert (ravenmigrate.threads)
        for rec in src.records():
            if isinstance(rec, Document):
                converter.convert(rec)
            if isinstance(rec, File):
                files = files or FileSystemSummary()
                files.add(rec)
                continue
            if isinstance(rec, DocumentRun):
                seen[rec.position.section] += len(rec)
                sample.observe_run(rec.results)
                named, unnamed, examples, total, largest, largest_size = tally(rec.results, rec.spans)
                for name, n in named.items():
                    collections[name] = collections.get(name, 0) + n
                if unnamed:
                    warning("document-without-collection", _NO_COLLECTION, examples, unnamed)
                sizes["documents_bytes"] += total
                if largest >= 0 and (sizes["largest_document"] is None or largest_size > sizes["largest_document"]["bytes"]):
                    sizes["largest_document"] = {"id": rec.results[largest][0], "bytes": largest_size}
                continue
            seen[rec.position.section if rec.position.section in seen else _SECTION_OF[type(rec)]] += 1
            if isinstance(rec, Document):
                name = get(rec.metadata, "Raven-Entity-Name")
                if not isinstance(name, str):
                    name = get(rec.metadata, "@collection")
                if not isinstance(name, str):
                    name = "@empty"
                    if not rec.id.lower().startswith("raven/"):
                        warning("document-without-collection", _NO_COLLECTION, [rec.id])
                collections[name] = collections.get(name, 0) + 1
                observe(sample, rec)
                _largest(sizes, "documents_bytes", "largest_document", rec.id, len(rec.data))
            elif isinstance(rec, Attachment):
                _largest(sizes, "attachments_bytes", "largest_attachment", rec.key, len(rec.data))
            elif isinstance(rec, Identity) and not rec.value_was_string:
                warning("identity-integer-value", "identities with an integer Value: the 4.x import drops them "
                        "(\"Could not read identity\", docs/formats/import-4x.md §8)", [rec.key])
            elif isinstance(rec, Index):
                want(rec, sample)
                index_records.append(rec)
                if rec.name.lower() in SKIPPED_INDEXES:
                    warning("index-skipped-by-4x", "indexes the 4.x import skips (docs/formats/import-4x.md §7.2)",
                            [rec.name])
                elif rec.definition is None:
                    warning("index-without-definition", "indexes without a definition (vanished during the export)",
                            [rec.name])
                elif get(rec.definition, "IsCompiled") is True or rec.name.startswith("Temp/"):
                    warning("index-skipped-by-3x", "compiled or Temp/ indexes, which import skips "
                            "(docs/formats/dumps-3x.md §3.2)", [rec.name])
            elif isinstance(rec, Transformer):
                warning("transformer-unsupported", "transformers do not exist in 4.x; the import ignores them "
                        "(docs/formats/import-4x.md §7.3)", [rec.name])
    indexes.outcomes = [predict(i, remove_analyzers, index_rewrite, sample) for i in index_records]
    source_counts = getattr(src, "counts", None) or seen  # a source may count items it did not yield
    counts = {s: source_counts.get(s, 0) for s in SECTIONS}
    close = getattr(src, "close", None)
    if close is not None:
        close()
    report = {
        "source": str(path),
        "kind": getattr(src, "kind", None),
        "files": getattr(src, "files", [str(path)]),
        "era": getattr(src, "era", "unknown"),
        "counts": counts,
        "collections": dict(sorted(collections.items(), key=lambda kv: (-kv[1], kv[0]))),
        "sizes": sizes,
        "warnings": list(warn.values()) + [_finding(f) for f in getattr(src, "findings", [])] + (
            [{"code": f"skipped-{code}", "message": "documents the conversion refuses (docs/reliability.md)", **g}
             for code, g in refused.reasons.items()] if refused is not None else []),
        "indexes": indexes.to_json(),
    }
    if files is not None:
        report["file_system"] = files.to_json(getattr(src, "configs", []))
    return report


def _index_report(out, indexes: dict[str, Any], limit: int = 100) -> None:
    """What 4.x will do with each index (ravenmigrate.convert.indexes, docs/indexes.md): every
    rejection and skip with its reason, the rewritten ones with their rules."""
    if not indexes["indexes"]:
        return
    out("indexes in 4.x: " + describe(indexes["summary"]) + "\n")
    for i in [i for i in indexes["indexes"] if i["outcome"] in ("reject", "skip")]:
        out(f"  {i['outcome']}: {i['name']}: {i['reason']}\n")
    rewritten = [i for i in indexes["indexes"] if i["outcome"] == "rewrite"]
    for i in rewritten[:limit]:
        renamed = f" -> {i['target']}" if i["target"] != i["name"] else ""
        out(f"  rewrite: {i['name']}{renamed} ({', '.join(i['rules'])})\n")
    if len(rewritten) > limit:
        out(f"  ... and {len(rewritten) - limit} more rewritten (--json lists every index)\n")


def _file_system(out, fs: dict[str, Any]) -> None:
    """A RavenFS file system: files, what 4.x keeps of them, metadata keys, configuration entries."""
    out(f"files: {fs['files']:,} ({fs['migrated_files']:,} become files/ documents, "
        f"{fs['migrated_bytes']:,} bytes")
    if fs["largest_file"]:
        out(f", largest {fs['largest_file']['key']!r} ({fs['largest_file']['bytes']:,} bytes)")
    out(")\n")
    for reason, n in fs["not_migrated"].items():
        out(f"  not migrated: {n:,} {reason}\n")
    out(f"metadata keys: {', '.join(f'{k} ({n})' for k, n in fs['metadata_keys'].items()) or 'none'}\n")
    out(f"configuration entries: {len(fs['configurations'])} (not migrated: 4.x has no RavenFS configuration)\n")
    for name in fs["configurations"][:20]:
        out(f"  {name}\n")
    if len(fs["configurations"]) > 20:
        out(f"  ... and {len(fs['configurations']) - 20} more (--json lists every one)\n")


def _largest(sizes: dict, total: str, largest: str, key: str, n: int) -> None:
    sizes[total] += n
    if sizes[largest] is None or n > sizes[largest]["bytes"]:
        sizes[largest] = {"id": key, "bytes": n}


def _finding(f) -> dict[str, Any]:
    out = {"code": f.code, "message": f.message}
    if f.position is not None:
        out["position"] = f.position.as_dict()
    if f.extra:
        out.update({k: v for k, v in f.extra.items() if k not in out})
    return out


def _server(report: dict[str, Any], as_json: bool) -> int:
    """``inspect http(s)://HOST:PORT``: the databases and file systems a running 3.x server holds."""
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"{report['source']}: RavenDB {report['product']} (build {report['build']})")
    for kind, names in (("databases", report["databases"]), ("fs", report["file_systems"])):
        print(f"{'file systems' if kind == 'fs' else kind}: {len(names)}")
        for name in names:
            print(f"  {report['source']}/{kind}/{name}")
    return 0


def run(args: argparse.Namespace) -> int:
    source_options = {**voron_options.from_namespace(args), **live_options.from_namespace(args)}
    if is_live(args.source) and is_server(args.source):
        return _server(listing(args.source, **source_options), args.json)
    selection, convert_options = selection_from(args)
    report = inspect(args.source, salvage=args.salvage, index_rewrite=convert_options.rewrite_indexes,
                     remove_analyzers=convert_options.remove_analyzers, **source_options)
    if not selection.everything or not convert_options.include_expired or convert_options.remove_analyzers:
        from ..plan import plan

        report["prediction"] = plan(args.source, convert=convert_options, selection=selection,
                                    source_options=source_options)
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    out = sys.stdout.write
    if "file_system" in report:
        out(f"{report['source']}: RavenFS file system ({report['kind']}), era {report['era']}\n")
        _file_system(out, report["file_system"])
        return 0
    out(f"{report['source']}: {report['kind']} export, era {report['era']}\n")
    if len(report["files"]) > 1:
        out(f"files: {len(report['files'])}\n")
    for section, n in report["counts"].items():
        out(f"  {section:<22}{n:>12,}\n")
    if report["collections"]:
        out("collections:\n")
        for name, n in report["collections"].items():
            out(f"  {name:<22}{n:>12,}\n")
    s = report["sizes"]
    out(f"documents: {s['documents_bytes']:,} bytes")
    if s["largest_document"]:
        out(f", largest {s['largest_document']['id']!r} ({s['largest_document']['bytes']:,} bytes)")
    out("\n")
    if s["largest_attachment"]:
        out(f"attachments: {s['attachments_bytes']:,} bytes, largest {s['largest_attachment']['id']!r} "
            f"({s['largest_attachment']['bytes']:,} bytes)\n")
    _index_report(out, report["indexes"])
    for w in report["warnings"]:
        count = f" ({w['count']})" if "count" in w else ""
        examples = f": {', '.join(map(str, w.get('examples', [])))}" if w.get("examples") else ""
        out(f"warning{count}: {w['message']}{examples}\n")
    if "prediction" in report:
        from ..plan import summary

        out("what load and convert would write with these options:\n" + summary(report["prediction"]) + "\n")
    return 0
