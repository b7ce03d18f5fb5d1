"""``select new { }`` -> ``select new { _ = (object)null }``: a 3.x map may output no field (its
entries then hold only the document id); 4.x refuses it ("Could not extract any fields"). ``_`` is
the 4.x name for dynamically created fields, so the entry gets no field either and a query of the
index still finds every document of the map's collection."""

from __future__ import annotations

import re

from .texts import Substitution

NAME = "empty-map"
_EMPTY = re.compile(r"\bselect\s+new\s*\{\s*\}")


RULE = Substitution(NAME, _EMPTY, "select new { _ = (object)null }", "a map that outputs no field now outputs _ = null (no field; every document still indexed)")
applies, apply, rewrite_text = RULE.applies, RULE.apply, RULE.rewrite_text
