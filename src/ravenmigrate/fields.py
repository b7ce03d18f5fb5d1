"""Plain record classes: ``__slots__`` and an explicit ``__init__``, with ``repr``, ``==`` and
:meth:`Fields.as_dict` over the fields written once here.

What ``@dataclass(slots=True)`` gave, without its cost at import: ``dataclasses`` imports
``inspect`` and compiles the generated methods of every class at start-up, about 25 ms of every
command for the classes ``convert`` imports (``docs/benchmarks.md``, start-up).
"""

from __future__ import annotations

from typing import Any


class Fields:
    """Base of a record class whose fields are its ``__slots__`` (in ``__init__``'s order)."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # compared by value and mutable: not hashable

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def as_dict(self) -> dict[str, Any]:
        """The fields by name (shallow)."""
        return {name: getattr(self, name) for name in self.__slots__}

    def replace(self, **changes: Any) -> Any:
        """A copy with *changes* applied (``dataclasses.replace``)."""
        return type(self)(**{**self.as_dict(), **changes})


class FrozenFields(Fields):
    """A :class:`Fields` that cannot change after ``__init__`` (which sets its fields with
    ``object.__setattr__``) and so is hashable."""

    __slots__ = ()

    def _fill(self, *values: Any) -> None:
        """Set the fields, in ``__slots__`` order, from ``__init__`` (a record made in a hot loop,
        such as ``records.Position``, sets them one by one instead: it is faster)."""
        for name, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self.__slots__))
