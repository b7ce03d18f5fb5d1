"""The expected list: what a load sent, as verify's expected entries, for verify to read instead of
converting the source again (docs/loading.md "Verify", "The load's expected list").

``load --expected-list FILE`` writes it while it converts: a msgpack header, then one event per
converted record in the load's order, then an end marker; it appears under its name only when the
load completed (``NAME.partial`` until then, ``outputs.publish``). ``verify --expected-list FILE``
replays the events into the expected entries on the source's thread (:class:`ListFeed`), as the
source's conversion would have put them, after checking that the list was written for this source
as it is now (its files' sizes and modification times), with the same transport and the same
selection. Documents are an event ``("d", [[id, entry], ...])``, the id as written (UTF-8 bytes) and
the entry ``expected.Expected`` keeps (body and metadata digests, ``@last-modified``; stored by the
``expected`` twins' ``store_entries``), about 40-70 bytes and the id; every other event is an
operation of ``Expected`` (:data:`OPERATIONS`) and its arguments, recorded by running
``Expected.add`` itself on the load's records (``_Recorder``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import msgpack

from ..errors import RavenMigrateError
from ..outputs import discard, partial, publish
from .expected import Expected, _expected
from .feed import SourceFeed, _Cancelled

FORMAT = "ravenmigrate expected list"
VERSION = 1
# The events other than documents: each the ``Expected`` operation of that name and its arguments.
OPERATIONS = frozenset({"revision", "attachment", "delete", "index", "identity", "skip"})


class ExpectedListError(RavenMigrateError):
    """An expected list that cannot stand for the source: another source or options, changed since,
    or not complete."""


def fingerprint(source: str) -> str:
    """The source's files as they are now: their relative paths, sizes and modification times (a
    file, or every file under a directory: raw storage)."""
    root = Path(source)
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file())
    elif root.is_file():
        files = [root]
    else:
        raise ExpectedListError(f"{source}: an expected list is kept for a source file or directory only")
    h = hashlib.sha256()
    for p in files:
        st = p.stat()
        h.update(f"{p.relative_to(root) if p != root else p.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def header(source: str, transport: str, selection: str) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "source": str(Path(source).resolve()),
            "fingerprint": fingerprint(source), "transport": transport, "selection": selection}


class _Recorder(Expected):
    """``Expected`` whose operations become events: its documents are one record's at a time (taken
    by :meth:`documents_event`), every other operation is written as it comes."""

    def __init__(self, write: Any) -> None:
        super().__init__()
        self._write = write

    def documents_event(self) -> int:
        """The documents put since the last call as one event (none: no event); how many."""
        if not self.documents:
            return 0
        self._write(("d", [[self.ids.get(low, low).encode("utf-8"), entry] for low, entry in self.documents.items()]))
        count = len(self.documents)
        self.documents.clear()
        self.ids.clear()
        return count

    def revision(self, of: str, change_vector: str) -> None:
        self._write(("revision", of, change_vector))

    def attachment(self, document_id: str, name: str, digest: str) -> None:
        self._write(("attachment", document_id, name, digest))

    def delete(self, doc_id: str) -> None:
        self._write(("delete", doc_id))

    def index(self, name: str) -> None:
        self._write(("index", name))

    def identity(self, name: str, value: int) -> None:
        self._write(("identity", name, value))

    def skip(self) -> None:
        self._write(("skip",))


class ListWriter:
    """Writes the events of a load's converted records (:meth:`add`: what ``Expected.add`` does with
    them) to ``FILE.partial``; :meth:`finish` ends it and renames it to FILE, :meth:`discard` removes it."""

    def __init__(self, path: str | os.PathLike, source: str, transport: str, selection: str) -> None:
        self.path = Path(path)
        self.bulk = transport == "bulk-insert"
        try:
            self._file = open(partial(self.path), "wb")  # noqa: SIM115 - closed by finish or discard
        except OSError as exc:
            raise ExpectedListError(f"cannot write the expected list {self.path}: {exc.strerror or exc}") from exc
        self._packer = msgpack.Packer(use_bin_type=True)
        self._recorder = _Recorder(self._write)
        self.documents = 0
        self._write(header(source, transport, selection))

    def _write(self, obj: Any) -> None:
        try:
            self._file.write(self._packer.pack(obj))
        except OSError as exc:
            raise ExpectedListError(f"cannot write the expected list {self.path}: {exc.strerror or exc}") from exc

    def add(self, conv: Any) -> None:
        """The events of one converted record."""
        self._recorder.add(conv, self.bulk)
        self.documents += self._recorder.documents_event()

    def finish(self) -> None:
        self._write(("end", self.documents))
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise ExpectedListError(f"cannot write the expected list {self.path}: {exc.strerror or exc}") from exc
        finally:
            self._file.close()
        publish([self.path])

    def discard(self) -> None:
        self._file.close()
        discard([self.path])


def _events(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            yield from msgpack.Unpacker(f, raw=False, use_list=True, max_buffer_size=1 << 30)
    except OSError as exc:
        raise ExpectedListError(f"cannot read the expected list {path}: {exc.strerror or exc}") from exc
    except (ValueError, msgpack.UnpackException) as exc:
        raise ExpectedListError(f"{path}: not an expected list ravenmigrate wrote ({exc})") from exc


def check(path: str | os.PathLike, source: str, transport: str, selection: str) -> None:
    """Raise :class:`ExpectedListError` unless *path* was written for *source* as it is now, with the
    same transport and selection."""
    p = Path(path)
    events = _events(p)
    try:
        head = next(events)
    except StopIteration:
        head = None
    finally:
        events.close()
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ExpectedListError(f"{p}: not an expected list ravenmigrate wrote")
    if head.get("version") != VERSION:
        raise ExpectedListError(f"{p}: expected list version {head.get('version')}, this ravenmigrate reads {VERSION}")
    now = header(source, transport, selection)
    for key, what in (("source", "another source"), ("fingerprint", "the source as it was then (its files changed since)"),
                      ("transport", "another transport"), ("selection", "another selection")):
        if head.get(key) != now[key]:
            raise ExpectedListError(
                f"{p} was written by a load of {what}: {key} {head.get(key)!r}, now {now[key]!r}; "
                "verify without --expected-list reads the source")


class ListFeed(SourceFeed):
    """``SourceFeed`` that replays an expected list (checked with :func:`check`) instead of converting
    the source; the same entries in the same order, so the join with the server's documents is the same."""

    def __init__(self, expected: Expected, path: str | os.PathLike, source: str, bulk: bool,
                 source_options: dict[str, Any]) -> None:
        super().__init__(expected, source, bulk, None, None, source_options)
        self.list_path = Path(path)

    def put_all(self) -> None:
        """The list's events into the expected entries, in the load's order."""
        exp = self.expected
        events = _events(self.list_path)
        next(events)  # the header, checked before
        ended = False
        for event in events:
            if self._cancelled:
                raise _Cancelled
            kind = event[0]
            if kind == "end":
                ended = True
                break
            with self.changed:
                if kind == "d":
                    _expected.store_entries(event[1], exp.documents, exp.ids, exp.join)
                    self.added += len(event[1])
                elif kind in OPERATIONS:
                    getattr(exp, kind)(*event[1:])
                    self.added += 1
                else:
                    raise ExpectedListError(f"{self.list_path}: an event of unknown kind {kind!r}")
                self.changed.notify()
        if not ended:
            raise ExpectedListError(f"{self.list_path}: the expected list ends before its end marker")


__all__ = ["ExpectedListError", "ListFeed", "ListWriter", "check", "fingerprint"]
