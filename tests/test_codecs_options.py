"""The 4.0 migration dialog style options (bundles-3x.md §4)."""

from __future__ import annotations

import base64

import pytest

from ravenmigrate.codecs.errors import BundleConfigError
from ravenmigrate.codecs.options import parse_options

KEY_B64 = "arHd5ENxwieA6yRmXl9Y5w=="


def test_defaults_auto_detect_and_no_encryption():
    opts = parse_options([])
    assert opts.compression is None and opts.encryption is None


def test_full_options():
    opts = parse_options(["--compression", "--encryption-key", KEY_B64, "--encryption-algorithm", "Triple DES",
                          "--encryption-bits", "192", "--encryption-legacy-sha1"])
    assert opts.compression is True
    enc = opts.encryption
    assert enc.key == base64.b64decode(KEY_B64) and enc.key_bits == 192 and enc.legacy_sha1
    assert enc.cipher_family.name == "3DES"
    assert parse_options(["--no-compression"]).compression is False


def test_bad_key_is_refused():
    with pytest.raises(BundleConfigError, match="at least 8"):
        parse_options(["--encryption-key", base64.b64encode(b"1234567").decode()])
