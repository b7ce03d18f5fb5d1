"""What every source offers (docs/formats/dumps-3x.md §15; design.md "The pipeline").

A source yields typed records in file order, keeps at most one record plus a bounded buffer in
memory, reports non-fatal findings, and can be iterated again (each call re-reads the input).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from ..records import Finding, Position, Record


@runtime_checkable
class Source(Protocol):
    path: str
    findings: list[Finding]

    @property
    def era(self) -> str:
        """The writer era detected so far (final once ``records()`` has been exhausted)."""

    def records(self, after: Position | None = None) -> Iterator[Record]:
        """Every record in order; with *after*, only the records after that position."""
