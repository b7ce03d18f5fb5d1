"""``from x in docs.C.SelectMany(p => p.Items)`` -> ``from p in docs.C from x in p.Items``: 4.x
takes the collection out of a method-syntax source and then cannot see the map's anonymous
object ("Indexing function must return an anonymous object"); the same query with two ``from``
clauses gives the same entries."""

from __future__ import annotations

import re

from .texts import Substitution

NAME = "select-many-source"
_SOURCE = re.compile(r"\bfrom\s+(@?\w+)\s+in\s+docs\.(\w+)\.SelectMany\(\s*(@?\w+)\s*=>\s*\3\.([\w.]+)\s*\)")


def _replace(m: re.Match[str]) -> str:
    outer = "__" + m.group(2).lower()
    return f"from {outer} in docs.{m.group(2)} from {m.group(1)} in {outer}.{m.group(4)}"


RULE = Substitution(NAME, _SOURCE, _replace, "docs.C.SelectMany(p => p.X) source written as two from clauses")
applies, apply, rewrite_text = RULE.applies, RULE.apply, RULE.rewrite_text
