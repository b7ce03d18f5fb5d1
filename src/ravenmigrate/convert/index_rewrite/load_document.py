"""``LoadDocument(id)`` -> ``LoadDocument(id, "Collection")``.

4.x's ``LoadDocument`` takes the collection of the loaded document; the compiler refuses the 3.x
one-argument form (CS1501, which the import words "LoadDocument requires a second argument which
is a collection name of the loaded document", ``DatabaseSmuggler.WriteIndex``) and the 3.x method
group ``Select((Func<dynamic, dynamic>)(LoadDocument))``. 4.x loads the document by its id
whatever the collection says; the collection tells it which documents' changes re-index the
entries (``ReferencedCollectionsRetriever`` in ``src/Raven.Server/Documents/Indexes/Static/Roslyn/
Rewriters/``, ``CurrentIndexingScope.LoadDocument``), so it must be the loaded documents' real one.

The collection comes, in this order, from:
  1. the source documents: the ids at that member path of sampled documents of the map's
     collection (or the literal ids), looked up among the source's documents;
  2. the source documents with the same id prefix (``"customers/" + i``);
  3. the default conventions shared by 3.x and 4.x (a collection is the plural of the type name;
     its ids start with its lower-cased name): the id prefix, else the member name without
     ``Id`` (``CustomerId`` -> ``Customers``);
  4. the map's own collection.
Every choice, and what it was based on, is in the report.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from . import csharp
from .collections import CollectionSample, pluralize
from .texts import functions, map_texts

NAME = "load-document"
_CALL = re.compile(r"\b(?:this\.)?LoadDocument\s*(?:<[^<>()]*>)?\s*\(")
_METHOD_GROUP = re.compile(r"\(\s*Func<dynamic,\s*dynamic>\s*\)\s*\(\s*(?:this\.)?LoadDocument\s*\)")
_SELECT = re.compile(r"\.Select\s*\(")
_SOURCE = re.compile(r"\bfrom\s+(@?\w+)\s+in\s+docs\.(\w+)")
_CAST = re.compile(r"^\(\s*\(?\s*[\w.?<>\[\]]+\s*\)\s*(.+)\)$|^\(\s*(.+)\s*\)$", re.S)
_PATH = re.compile(r"^@?\w+(?:\.@?\w+)*$")
_THIS = re.compile(r"^this\d+$")
_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


def applies(definition: dict[str, Any], context: Any = None) -> bool:
    return any(_one_argument_calls(f) or _method_groups(f) for f in functions(definition))


def _one_argument_calls(text: str) -> list[tuple[int, int, str]]:
    """(start of the argument, end of the argument, its text) of every ``LoadDocument(x)``."""
    out = []
    for m in csharp.code_positions(text, _CALL):
        args, end = csharp.arguments(text, m.end() - 1)
        if len(args) == 1:
            out.append((m.end(), end, args[0]))
    return out


def _method_groups(text: str) -> list[tuple[int, int, str]]:
    """(start, end, receiver) of every ``receiver.Select((Func<dynamic, dynamic>)(LoadDocument))`` argument."""
    out = []
    for m in csharp.code_positions(text, _SELECT):
        args, end = csharp.arguments(text, m.end() - 1)
        if len(args) == 1 and _METHOD_GROUP.fullmatch(_unwrap(args[0])):
            receiver = re.search(r"([\w.@]+)$", text[:m.start()])
            out.append((m.end(), end, receiver.group(1) if receiver else ""))
    return out


def _unwrap(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and csharp.matching(expr, 0) == len(expr) - 1:
        expr = expr[1:-1].strip()
    return expr


def _strip_casts(expr: str) -> str:
    expr = expr.strip()
    while True:
        m = _CAST.match(expr)
        if m is None or csharp.matching(expr, 0) != len(expr) - 1:
            return expr
        expr = (m.group(1) or m.group(2)).strip()


class Target:
    """What one loaded id expression says about the loaded collection."""

    def __init__(self, expr: str, variable: str | None, collection: str | None, text: str = "") -> None:
        self.expr = " ".join(expr.split())
        self.source = collection
        self.path: tuple[str, ...] | None = None
        self.ids: tuple[str, ...] = ()
        self.prefix: str | None = None
        self.member: str | None = None
        self.suffix: str | None = None
        plain = _strip_casts(expr)
        literals = [csharp.string_value(x) for x in _LITERAL.findall(plain)]
        literal = csharp.string_value(plain)
        if literal is not None or (plain.startswith("new") and literals and "+" not in plain):
            self.ids = tuple(x for x in ([literal] if literal is not None else literals) if x)
            self.prefix = self.ids[0].split("/", 1)[0] if self.ids and "/" in self.ids[0] else None
            return
        parts = [p.strip() for p in csharp.split_top(plain, "+")]
        if len(parts) > 1:
            first, last = csharp.string_value(parts[0]), csharp.string_value(parts[-1])
            if first and "/" in first:
                self.prefix = first.split("/", 1)[0]
            elif last and last.strip("/"):
                self.suffix = last.strip("/").split("/")[-1]
            return
        if _PATH.match(plain):
            tokens = plain.split(".")
            while tokens and _THIS.match(tokens[0]):
                tokens = tokens[1:]
            if len(tokens) > 1 and variable and tokens[0] == variable:
                self.path = tuple(t.lstrip("@") for t in tokens[1:])
            if len(tokens) > 2 and tokens[-1].lower() == "id":
                tokens = tokens[:-1]
            if len(tokens) > 1:
                self.member = tokens[-1].lstrip("@")
            elif len(tokens) == 1:
                bound = re.search(r"\bfrom\s+" + re.escape(tokens[0]) + r"\s+in\s+[\w.@]*?(\w+)\s*(?:\bselect\b|\bwhere\b|\blet\b|\bfrom\b|$)", text)
                if bound:
                    self.member = bound.group(1)

    def want(self, sample: CollectionSample) -> None:
        sample.want(self.source, self.path, self.ids)

    def choose(self, sample: CollectionSample) -> tuple[str, str]:
        """(collection, what the choice is based on)."""
        if self.path is not None and self.source:
            found = sample.loaded_by(self.source, self.path)
            if found:
                return _pick(found, f"ids at {self.source}.{'.'.join(self.path)} in the source documents")
        if self.ids:
            found = sample.of_ids(self.ids)
            if found:
                return _pick(found, "the source documents with those ids")
        if self.prefix:
            found = sample.of_prefix(self.prefix)
            if found:
                return _pick(found, f"source documents whose ids start with {self.prefix}/")
            return _capital(self.prefix), f"default conventions: ids {self.prefix}/... belong to {_capital(self.prefix)}"
        if self.member:
            stem = re.sub(r"(?i)_?ids?$", "", self.member)
            if stem:
                name = pluralize(_capital(stem))
                return name, f"default conventions: member {self.member} refers to a {_capital(stem)}"
        if self.suffix:
            name = pluralize(_capital(self.suffix))
            return name, f"default conventions: ids ending /{self.suffix} belong to {name}"
        if self.source:
            return self.source, "no evidence in the source: the map's own collection"
        return "@empty", "no evidence in the source and no map collection: @empty"


def _capital(word: str) -> str:
    return word[:1].upper() + word[1:]


def _pick(found: Counter[str], basis: str) -> tuple[str, str]:
    (best, n), *others = found.most_common()
    if others:
        spread = ", ".join(f"{c} ({k})" for c, k in found.most_common())
        return best, f"{basis}; the ids span {spread}: the most common one"
    return best, f"{basis} ({n} of them)"


def _targets(text: str) -> list[tuple[int, int, Target, bool]]:
    source = _SOURCE.search(text)
    variable, collection = (source.group(1), source.group(2)) if source else (None, None)
    out = [(s, e, Target(arg, variable, collection, text), False) for s, e, arg in _one_argument_calls(text)]
    out += [(s, e, Target(receiver, variable, collection, text), True) for s, e, receiver in _method_groups(text)]
    return sorted(out, key=lambda t: t[0])


def want(definition: dict[str, Any], sample: CollectionSample) -> None:
    """Register what the source documents should tell about this definition's loaded ids."""
    for text in functions(definition):
        for _, _, target, _ in _targets(text):
            target.want(sample)


def apply(definition: dict[str, Any], context: Any) -> list[str]:
    notes: list[str] = []

    def change(text: str) -> str:
        for start, end, target, group in reversed(_targets(text)):
            collection, basis = target.choose(context.sample)
            name = csharp.quote(collection)
            if group:
                text = text[:start] + f"__id => LoadDocument(__id, {name})" + text[end:]
            else:
                text = text[:end] + f", {name}" + text[end:]
            notes.append(f"LoadDocument({target.expr}) loads from {collection}: {basis}")
        return text

    map_texts(definition, change)
    return list(reversed(notes))

