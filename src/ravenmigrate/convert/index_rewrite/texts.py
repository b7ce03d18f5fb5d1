"""The map and reduce texts of a 3.x definition, read and rewritten in place."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .csharp import code_positions


def functions(definition: dict[str, Any]) -> list[str]:
    """The map and reduce texts of a 3.x definition."""
    out = [m for m in definition.get("Maps") or [] if isinstance(m, str)]
    if isinstance(definition.get("Map"), str) and definition["Map"] not in out:
        out.append(definition["Map"])
    if isinstance(definition.get("Reduce"), str):
        out.append(definition["Reduce"])
    return out


def map_texts(definition: dict[str, Any], change: Callable[[str], str]) -> None:
    """Apply *change* (text -> text) once to every map and the reduce of *definition*, in place
    (a 3.x definition repeats its first map as ``Map``)."""
    done: dict[str, str] = {}

    def once(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        if text not in done:
            done[text] = change(text)
        return done[text]

    if isinstance(definition.get("Maps"), list):
        definition["Maps"] = [once(m) for m in definition["Maps"]]
    for key in ("Map", "Reduce"):
        if isinstance(definition.get(key), str):
            definition[key] = once(definition[key])


def uses(definition: dict[str, Any], pattern: Any) -> bool:
    """Does any map or the reduce match *pattern* outside string literals."""
    return any(code_positions(f, pattern) for f in functions(definition))


class Substitution:
    """A rule that is one regular-expression substitution in every map and the reduce."""

    def __init__(self, name: str, pattern: re.Pattern[str], replacement: Any, note: str) -> None:
        self.name = name
        self.pattern = pattern
        self.replacement = replacement
        self.note = note

    def applies(self, definition: dict[str, Any], context: Any = None) -> bool:
        return uses(definition, self.pattern)

    def rewrite_text(self, text: str) -> str:
        return self.pattern.sub(self.replacement, text)

    def apply(self, definition: dict[str, Any], context: Any = None) -> list[str]:
        map_texts(definition, self.rewrite_text)
        return [self.note]
