"""``docs["Orders"]`` -> ``docs.Orders``: 4.x reads a map's collection only from ``docs.Name``
(``CollectionNameRetriever`` in ``src/Raven.Server/Documents/Indexes/Static/Roslyn/Rewriters/``)."""

from __future__ import annotations

import re

from .texts import Substitution

NAME = "dynamic-docs"
_INDEXER = re.compile(r'\bdocs\s*\[\s*"([A-Za-z_]\w*)"\s*\]')


RULE = Substitution(NAME, _INDEXER, r"docs.\1", 'docs["Name"] written docs.Name')
applies, apply, rewrite_text = RULE.applies, RULE.apply, RULE.rewrite_text
