"""Bundle options named like the 4.0 offline-migration dialog (docs/formats/bundles.md §4).

``--compression`` / ``--no-compression`` (default: auto-detect the ``Cmpr`` magic),
``--encryption-key BASE64``, ``--encryption-algorithm``, ``--encryption-bits`` and
``--encryption-legacy-sha1`` (databases created by 2.x, docs/formats/bundles.md §2.2).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ravenmigrate.fields import FrozenFields

if TYPE_CHECKING:  # imported when a key is given: cryptography costs every other command's start-up
    from ravenmigrate.codecs.encryption import EncryptionSettings


class BundleOptions(FrozenFields):
    """What a storage source needs to decode bodies: compression mode and encryption settings."""

    __slots__ = ("compression", "encryption")

    def __init__(self, compression: bool | None = None, encryption: EncryptionSettings | None = None) -> None:
        self._fill(compression, encryption)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the bundle options to a subcommand's parser."""
    g = parser.add_argument_group("3.x bundles (compression, encryption)")
    g.add_argument(
        "--compression", dest="compression", action="store_true", default=None,
        help="the Compression bundle was enabled (default: auto-detect the 'Cmpr' prefix of each value)",
    )
    g.add_argument(
        "--no-compression", dest="compression", action="store_false",
        help="never inflate; a 'Cmpr' value is then reported as an error",
    )
    g.add_argument("--encryption-key", metavar="BASE64", help="the database's Raven/Encryption/Key (base64)")
    g.add_argument(
        "--encryption-algorithm", default="Rijndael", metavar="NAME",
        help="DES, RC2, Rijndael, Triple DES or a .NET type name such as AesCryptoServiceProvider "
        "(AES and Rijndael give identical output; default Rijndael)",
    )
    g.add_argument(
        "--encryption-bits", type=int, default=128, metavar="BITS",
        help="Raven/Encryption/KeyBitsPreference (default 128; the 3.x Studio used 256)",
    )
    g.add_argument(
        "--encryption-legacy-sha1", action="store_true",
        help="derive the key with the SHA1 salt of databases created by RavenDB 2.x",
    )


def from_namespace(ns: argparse.Namespace) -> BundleOptions:
    """Build :class:`BundleOptions` from parsed arguments (raises ``BundleConfigError`` on a bad key)."""
    enc = None
    if ns.encryption_key:
        from ravenmigrate.codecs.encryption import EncryptionSettings

        enc = EncryptionSettings.from_base64(
            ns.encryption_key, ns.encryption_algorithm, ns.encryption_bits, ns.encryption_legacy_sha1
        )
    return BundleOptions(compression=ns.compression, encryption=enc)


def parse_options(argv: Sequence[str]) -> BundleOptions:
    """Parse just the bundle options from *argv* (a convenience for the Python API and tests)."""
    parser = argparse.ArgumentParser(prog="ravenmigrate", add_help=False)
    add_arguments(parser)
    return from_namespace(parser.parse_args(list(argv)))
