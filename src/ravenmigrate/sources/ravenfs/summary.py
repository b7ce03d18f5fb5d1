"""What ``inspect`` says about a file system: files, sizes, deleted and temporary files, metadata keys,
configuration entries (docs/ravenfs.md)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...records import File


class FileSystemSummary:
    """Counts :class:`File` records as the conversion will treat them (``convert.files.skip_reason``)."""

    def __init__(self) -> None:
        self.files = 0
        self.live = 0
        self.bytes = 0
        self.largest: dict[str, Any] | None = None
        self.not_migrated: Counter[str] = Counter()
        self.metadata_keys: Counter[str] = Counter()

    def add(self, file: File) -> None:
        from ...convert.files import skip_reason

        self.files += 1
        self.metadata_keys.update(file.metadata.keys())
        reason = skip_reason(file)
        if reason is not None:
            self.not_migrated[reason] += 1
            return
        self.live += 1
        size = len(file.content)
        self.bytes += size
        if self.largest is None or size > self.largest["bytes"]:
            self.largest = {"key": file.key, "bytes": size}

    def to_json(self, configurations: list[tuple[str, Any]]) -> dict[str, Any]:
        return {
            "files": self.files,
            "migrated_files": self.live,
            "migrated_bytes": self.bytes,
            "largest_file": self.largest,
            "not_migrated": dict(self.not_migrated),
            "metadata_keys": dict(sorted(self.metadata_keys.items())),
            "configurations": [name for name, _ in configurations],
        }
