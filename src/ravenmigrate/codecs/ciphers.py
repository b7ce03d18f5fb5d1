"""The symmetric algorithms of the 3.x Encryption bundle, their key-size rule and CBC/PKCS7.

docs/formats/bundles.md §2.1: the .NET ``SymmetricAlgorithm`` types RavenDB accepts, their block sizes and
legal key sizes; mode and padding are the .NET defaults, CBC and PKCS7. §5: ``cryptography`` >= 43
does AES and DES/3DES (``hazmat.decrepit``); RC2 (40..128-bit keys, effective bits = key bits) uses the
RFC 2268 twin for every size, checked against the library's 128-bit RC2 in the tests.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ravenmigrate import _twins
from ravenmigrate.codecs.errors import BundleConfigError

_twins.register("rc2", "ravenmigrate.codecs.rc2")
_twins.register("cbc", "ravenmigrate.codecs.cbc")
_rc2 = _twins.load("rc2")
_cbc = _twins.load("cbc")


@dataclass(frozen=True)
class Algorithm:
    """One cipher family: ``name`` (AES, DES, 3DES, RC2), block size and legal key sizes in bits."""

    name: str
    block: int
    legal_bits: tuple[int, ...]
    fallback_bits: int

    def key_bits(self, preference: int) -> int:
        """docs/formats/bundles.md §2.1 "Key size": the preference if legal, else the largest size of the
        algorithm's first ``LegalKeySizes`` range."""
        return preference if preference in self.legal_bits else self.fallback_bits


AES = Algorithm("AES", 16, (128, 192, 256), 256)
DES = Algorithm("DES", 8, (64,), 64)
TRIPLE_DES = Algorithm("3DES", 8, (128, 192), 192)
RC2_ALG = Algorithm("RC2", 8, tuple(range(40, 129, 8)), 128)
ALGORITHMS = (AES, DES, TRIPLE_DES, RC2_ALG)

# Accepted spellings (lower-cased, spaces/dashes removed): .NET type names (bare or namespaced,
# optionally assembly-qualified), the StorageExporter/4.x Studio short names (docs/formats/bundles.md §4).
_NAMES = {
    "aescryptoserviceprovider": AES, "aesmanaged": AES, "rijndaelmanaged": AES, "rijndael": AES,
    "aes": AES, "aescng": AES,
    "descryptoserviceprovider": DES, "des": DES,
    "tripledescryptoserviceprovider": TRIPLE_DES, "tripledes": TRIPLE_DES, "3des": TRIPLE_DES,
    "rc2cryptoserviceprovider": RC2_ALG, "rc2": RC2_ALG,
}


def algorithm_named(name: str) -> Algorithm:
    """Resolve a .NET type name (``System.Security.Cryptography.RC2CryptoServiceProvider``), a bare
    class name (``RijndaelManaged``) or a Studio short name (``Triple DES``) to its cipher family."""
    bare = name.split(",")[0].strip().rsplit(".", 1)[-1]
    norm = bare.lower().replace(" ", "").replace("-", "").replace("_", "")
    try:
        return _NAMES[norm]
    except KeyError:
        raise BundleConfigError(
            f"unknown encryption algorithm {name!r}: expected one of DES, RC2, Rijndael, Triple DES "
            "(or a .NET type name such as AesCryptoServiceProvider, RijndaelManaged, "
            "DESCryptoServiceProvider, TripleDESCryptoServiceProvider, RC2CryptoServiceProvider)"
        ) from None


def _library_cipher(alg: Algorithm, key: bytes):
    """The ``cryptography`` algorithm object, or None for RC2 (the RFC 2268 twin)."""
    if alg is AES:
        return algorithms.AES(key)
    if alg is DES:
        key = key * 3  # DES as 3DES with K1=K2=K3 (docs/formats/bundles.md §5)
    elif alg is TRIPLE_DES and len(key) == 16:
        key = key + key[:8]  # 2-key 3DES expanded to K1,K2,K1
    if alg is DES or alg is TRIPLE_DES:
        return TripleDES(key)
    return None  # RC2: every key size through the RFC 2268 twin (the library has no RC2-ECB, and 128 bits only)


class CbcCipher:
    """CBC with one key for many values; each call starts from the IV it is given.

    Decryption reuses one ECB context per thread and chains the blocks with the ``cbc`` twin,
    instead of building a cipher context for every document (the per-value cost dominates for
    document-sized values).
    """

    def __init__(self, alg: Algorithm, key: bytes) -> None:
        self.algorithm = alg
        self.block = alg.block
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._lib = _library_cipher(alg, key)
        self._schedule = None if self._lib is not None else _rc2.key_schedule(key, len(key) * 8)
        self._local = threading.local()

    def _ecb(self):
        ctx = getattr(self._local, "ecb", None)
        if ctx is None:
            ctx = self._local.ecb = Cipher(self._lib, modes.ECB()).decryptor()
        return ctx

    def decrypt(self, iv: bytes, data: bytes) -> bytes:
        """Raw CBC decryption (padding kept); *data* must be a multiple of the block size."""
        if self._lib is None:
            return _rc2.cbc_decrypt(self._schedule, iv, data)
        if len(data) % self.block:
            raise ValueError(f"CBC data length {len(data)} is not a multiple of the {self.block}-byte block")
        return _cbc.unchain(self._ecb().update(data), iv, data)

    def encrypt(self, iv: bytes, data: bytes) -> bytes:
        """Raw CBC encryption of already padded *data*."""
        if self._lib is None:
            return _rc2.cbc_encrypt(self._schedule, iv, data)
        e = Cipher(self._lib, modes.CBC(iv)).encryptor()
        return e.update(data) + e.finalize()


def pkcs7_pad(data: bytes, block: int) -> bytes:
    """PKCS7: always add 1..block bytes, each the pad length (a full block when aligned)."""
    n = block - len(data) % block
    return data + bytes((n,)) * n


def pkcs7_unpad(data: bytes, block: int) -> bytes | None:
    """Strip PKCS7 padding; None when the padding is invalid (wrong key, docs/formats/bundles.md §7)."""
    if not data:
        return None
    n = data[-1]
    if n == 0 or n > block or data[-n:] != bytes((n,)) * n:
        return None
    return data[:-n]
