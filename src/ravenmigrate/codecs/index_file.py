"""Encryption bundle, block form: encrypted Lucene index files (``SeekableCryptoStream``).

docs/formats/bundles.md §2.4: header (magic, IVSize, DecryptedBlockSize 12288, EncryptedBlockSize and, for
the 3.x magic only, TotalUnencryptedSize), then blocks of ``IV ‖ CBC-PKCS7(K, IV, 12288 bytes)``,
then an int64 footer = the logical length, which is the one to trust. Missing blocks read as zeros.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence

from ravenmigrate.codecs.ciphers import pkcs7_pad, pkcs7_unpad
from ravenmigrate.codecs.encryption import EncryptionSettings
from ravenmigrate.codecs.errors import BundleDecodeError, BundleKeyError

MAGIC_V2 = 0x3175768581897343  # written by all 3.x
MAGIC_V1 = 0x2064657470797243  # "Crypted " (2.x files)
BLOCK_SIZE = 12288  # Constants.DefaultIndexFileBlockSize


def decode_index_file(blob: bytes, settings: EncryptionSettings, *, path: str | None = None) -> bytes:
    """The plaintext of an encrypted Lucene file, ``footer`` bytes long (docs/formats/bundles.md §2.4)."""
    if len(blob) < 28:
        raise BundleDecodeError("index-file", f"{len(blob)} bytes is too short for an encrypted index file", path=path)
    magic, iv_size, plain_block, enc_block = struct.unpack_from("<QIII", blob, 0)
    if magic == MAGIC_V2:
        header = 28
    elif magic == MAGIC_V1:
        header = 20
    else:
        raise BundleDecodeError(
            "index-file",
            f"unknown magic 0x{magic:016x} (expected 0x{MAGIC_V2:016x} or 'Crypted '): the index file is "
            "not encrypted (EncryptIndexes=false) or not a Lucene file",
            path=path,
        )
    bs = settings.cipher_family.block
    if iv_size != bs or enc_block != plain_block + bs or plain_block <= 0:
        raise BundleDecodeError(
            "index-file",
            f"header says IVSize {iv_size}, blocks {plain_block}/{enc_block}; {settings.describe()} needs IVSize "
            f"{bs} and EncryptedBlockSize = DecryptedBlockSize + {bs}: wrong algorithm",
            path=path,
        )
    (length,) = struct.unpack_from("<q", blob, len(blob) - 8)
    if length < 0:
        raise BundleDecodeError("index-file", f"negative footer length {length}", path=path)
    stride = iv_size + enc_block
    body = memoryview(blob)[header : len(blob) - 8]
    present = len(body) // stride
    needed = -(-length // plain_block)
    out = bytearray()
    for n in range(needed):
        if n >= present:
            out += bytes(plain_block)  # a block past the physical end reads as zeros
            continue
        start = n * stride
        iv = bytes(body[start : start + iv_size])
        plain = pkcs7_unpad(settings.cipher.decrypt(iv, bytes(body[start + iv_size : start + stride])), bs)
        if plain is None:
            raise BundleKeyError(
                "bad-padding",
                f"index file block {n}: invalid PKCS7 padding after decrypting with {settings.describe()}",
                path=path,
            )
        out += plain
    return bytes(out[:length])


def encode_index_file(
    data: bytes,
    settings: EncryptionSettings,
    *,
    header: str = "v2",
    ivs: Sequence[bytes] | None = None,
    random: Callable[[int], bytes] = os.urandom,
) -> bytes:
    """The project's own encoder for the block form, one write per block (``single_flush``).

    *ivs* replays given block IVs (to re-encode RavenDB's files byte for byte); otherwise each
    block gets a random IV, as RavenDB does.
    """
    bs = settings.cipher_family.block
    blocks = [data[i : i + BLOCK_SIZE] for i in range(0, len(data), BLOCK_SIZE)] or []
    parts = []
    if header == "v2":
        parts.append(struct.pack("<QIIIq", MAGIC_V2, bs, BLOCK_SIZE, BLOCK_SIZE + bs, len(data)))
    elif header == "v1":
        parts.append(struct.pack("<QIII", MAGIC_V1, bs, BLOCK_SIZE, BLOCK_SIZE + bs))
    else:
        raise ValueError(f"header must be 'v1' or 'v2', got {header!r}")
    for n, block in enumerate(blocks):
        iv = ivs[n] if ivs is not None else random(bs)
        full = block.ljust(BLOCK_SIZE, b"\x00")
        parts.append(iv + settings.cipher.encrypt(iv, pkcs7_pad(full, bs)))
    parts.append(struct.pack("<q", len(data)))
    return b"".join(parts)
