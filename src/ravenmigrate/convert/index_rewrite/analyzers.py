"""Analyzers 4.x cannot load: the field is kept; a 3.x built-in that 4.x still ships under another
name is mapped to it, anything else (custom assemblies, test analyzers) is dropped so the field is
indexed with the 4.x default. (``--remove-analyzers`` drops every analyzer of every index before
this rule runs, as Studio's "Remove analyzers" import option does: ``DatabaseSmuggler.WriteIndex``
in ``src/Raven.Server/Smuggler/Documents/DatabaseSmuggler.cs``.)

4.x looks an analyzer up in the Lucene.Net assembly, then with ``Type.GetType``, then as a short
Lucene name (``IndexingExtensions.GetAnalyzerType``,
``src/Raven.Server/Documents/Indexes/Persistence/Lucene/IndexingExtensions.cs``).
"""

from __future__ import annotations

import re
from typing import Any

NAME = "analyzers"
V4_ANALYZERS = "Raven.Server.Documents.Indexes.Persistence.Lucene.Analyzers."
_RAVEN3 = re.compile(r"^Raven\.Database\.Indexing\.((?:Collation\.Cultures\.)?\w+|Collation\.CollationAnalyzer)\s*(,.*)?$")
# Raven.Server/Documents/Indexes/Persistence/Lucene/Analyzers/ in 4.1 (Collation/Cultures/* too).
_V4_BUILT_IN = ("LowerCaseKeywordAnalyzer", "LowerCaseWhitespaceAnalyzer", "RavenStandardAnalyzer")
_LUCENE = re.compile(r"^(Lucene\.Net\.[\w.]+|\w+)(\s*,\s*Lucene\.Net)?$")


def known(analyzer: str) -> bool:
    """Will 4.1 find this analyzer type."""
    name = analyzer.strip()
    return bool(_LUCENE.match(name)) or name.startswith(V4_ANALYZERS)


def nearest(analyzer: str) -> str | None:
    """The 4.x built-in a 3.x ``Raven.Database.Indexing`` analyzer became, else None."""
    m = _RAVEN3.match(analyzer.strip())
    if m is None:
        return None
    short = m.group(1)
    if short.startswith("Collation.Cultures.") and short.endswith("CollationAnalyzer"):
        return V4_ANALYZERS + short + ", Raven.Server"
    if short in _V4_BUILT_IN:
        return V4_ANALYZERS + short + ", Raven.Server"
    return None


def applies(definition: dict[str, Any], context: Any = None) -> bool:
    return any(isinstance(a, str) and not known(a) for a in (definition.get("Analyzers") or {}).values())


def apply(definition: dict[str, Any], context: Any = None) -> list[str]:
    notes = []
    kept = {}
    for field, analyzer in (definition.get("Analyzers") or {}).items():
        if isinstance(analyzer, str) and known(analyzer):
            kept[field] = analyzer
            continue
        mapped = nearest(str(analyzer))
        if mapped is not None:
            kept[field] = mapped
            notes.append(f"field {field}: analyzer {analyzer.split(',')[0]} mapped to {mapped.split(',')[0]}")
        else:
            notes.append(f"field {field}: analyzer {str(analyzer).split(',')[0]} dropped (not in 4.x); "
                         "the field keeps its other options")
    definition["Analyzers"] = kept
    return notes
