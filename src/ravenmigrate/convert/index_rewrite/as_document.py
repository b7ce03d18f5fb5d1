"""``AsDocument(x)`` -> ``AsJson(x)``: the 3.x function that gives a document as JSON is called
``AsJson`` in 4.x (``StaticIndexBase.AsJson``, ``src/Raven.Server/Documents/Indexes/Static/StaticIndexBase.cs``)."""

from __future__ import annotations

import re

from .texts import Substitution

NAME = "as-document"
_CALL = re.compile(r"\b(this\.)?AsDocument(\s*\()")


RULE = Substitution(NAME, _CALL, r"\1AsJson\2", "AsDocument(...) written AsJson(...)")
applies, apply, rewrite_text = RULE.applies, RULE.apply, RULE.rewrite_text
