"""Which collection a ``LoadDocument`` loads from, learnt from the source's documents.

A rule registers what it wants to know (:meth:`CollectionSample.want`): the ids a map loads
through a member path of its source documents (``order.CustomerId`` in ``docs.Orders``) or as a
literal. While the documents pass, the sample keeps up to :data:`SAMPLE` documents of each wanted
collection, reads the ids at those paths, and records the collection of every later document
whose id was wanted, plus the collections seen under each id prefix (``customers/``), which
answers for the ids whose documents came before the sample. Sources (``load``,
``convert``, ``inspect``) show it every document, then rewrite the indexes.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

SAMPLE = 100
MAX_IDS = 1000


class CollectionSample:
    def __init__(self) -> None:
        self.paths: dict[str, set[tuple[str, ...]]] = {}
        self.sampled: Counter[str] = Counter()
        self.path_ids: dict[tuple[str, tuple[str, ...]], set[str]] = {}
        self.wanted_ids: set[str] = set()
        self.id_collections: dict[str, str] = {}
        self.prefixes: dict[str, Counter[str]] = {}
        self.documents = 0

    @property
    def active(self) -> bool:
        return bool(self.paths or self.wanted_ids)

    def want(self, collection: str | None, path: tuple[str, ...] | None = None, ids: tuple[str, ...] = ()) -> None:
        if collection and path:
            self.paths.setdefault(collection.lower(), set()).add(path)
        for i in ids:
            self.wanted_ids.add(i.lower())

    def observe(self, doc_id: str, collection: str, data: Any = None) -> None:
        """One source document (*data*: its JSON bytes or a parsed dict, read only when sampled)."""
        self.documents += 1
        key = doc_id.lower()
        prefix = key.split("/", 1)[0]
        self.prefixes.setdefault(prefix, Counter())[collection] += 1
        if key in self.wanted_ids:
            self.id_collections[key] = collection
        paths = self.paths.get(collection.lower())
        if not paths or self.sampled[collection.lower()] >= SAMPLE or data is None:
            return
        self.sampled[collection.lower()] += 1
        try:
            body = json.loads(data) if isinstance(data, (bytes, bytearray, memoryview, str)) else data
        except ValueError:
            return
        for path in paths:
            found = self.path_ids.setdefault((collection.lower(), path), set())
            for value in _values(body, path):
                if len(found) < MAX_IDS:
                    found.add(value.lower())
                    self.wanted_ids.add(value.lower())

    def observe_run(self, results: list[tuple]) -> None:
        """The converted documents of a ``DocumentRun`` (``(id, data, collection, ...)`` tuples)."""
        if self.active:
            for r in results:
                self.observe(r[0], r[2], r[1])

    def loaded_by(self, collection: str, path: tuple[str, ...]) -> Counter[str]:
        """The collections of the sampled ids at *path* of *collection*'s documents: the document
        with that id when it came after the sample, else the documents of the same id prefix."""
        out: Counter[str] = Counter()
        for value in self.path_ids.get((collection.lower(), path), ()):
            c = self.id_collections.get(value)
            if c is None:
                same_prefix = self.of_prefix(value)
                c = same_prefix.most_common(1)[0][0] if same_prefix else None
            if c is not None:
                out[c] += 1
        return out

    def of_ids(self, ids: tuple[str, ...]) -> Counter[str]:
        out: Counter[str] = Counter()
        for i in ids:
            c = self.id_collections.get(i.lower())
            if c is not None:
                out[c] += 1
        return out

    def of_prefix(self, prefix: str) -> Counter[str]:
        return self.prefixes.get(prefix.lower().rstrip("/").split("/", 1)[0], Counter())


def _values(body: Any, path: tuple[str, ...]) -> list[str]:
    items = [body]
    for name in path:
        nxt = []
        for item in items:
            if isinstance(item, dict):
                value = item.get(name)
                nxt.extend(value if isinstance(value, list) else [value])
            elif isinstance(item, list):
                nxt.extend(i.get(name) for i in item if isinstance(i, dict))
        items = nxt
    out = []
    for v in items:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, list):
            out.extend(x for x in v if isinstance(x, str))
    return out


def pluralize(word: str) -> str:
    """English plural as the 3.x and 4.x default conventions make a collection name of a type name."""
    lower = word.lower()
    if lower.endswith("y") and len(word) > 1 and lower[-2] not in "aeiou":
        return word[:-1] + "ies"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return word if lower.endswith("s") else word + "es"
    return word + "s"
