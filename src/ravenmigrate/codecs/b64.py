"""Base64 of attachment payloads: ``pybase64`` (SIMD; the optional "fast" extra) when installed,
else the stdlib. Same bytes, and the same inputs accepted, either way.

Measured on 128 KB payloads: the stdlib decodes with validation at about 0.25 GB/s and encodes at
0.67 GB/s, pybase64 at about 10 and 25 GB/s. A dump of 1 500 attachments of up to 128 KB spent a
third of convert's main thread in them (docs/benchmarks.md).
"""

from __future__ import annotations

import base64

try:
    from pybase64 import b64decode as _fast_decode
    from pybase64 import b64encode
except ImportError:  # pragma: no cover - depends on the installed extras
    _fast_decode = None
    from base64 import b64encode

__all__ = ["b64encode", "decode"]


def decode(data: str | bytes) -> bytes:
    """Strict standard base64: the alphabet and padding only; ``binascii.Error`` otherwise (a
    ``ValueError`` for text that is not ASCII, as the stdlib raises).

    What pybase64 rejects is decided by the stdlib, which accepts a little more (padding past a
    complete group, ``QQ===``), so the accepted inputs do not depend on the extras installed."""
    if _fast_decode is not None:
        try:
            return _fast_decode(data, validate=True)
        except ValueError:  # binascii.Error, or text that is not ASCII
            pass
    return base64.b64decode(data, validate=True)
