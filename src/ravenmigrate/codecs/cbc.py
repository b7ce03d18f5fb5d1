"""Pure twin of ``ravenmigrate._native.cbc``: the CBC chaining step of decryption.

CBC decryption is ``P_i = D(C_i) XOR C_(i-1)`` with ``C_(-1) = IV``. The block decryptions ``D(C_i)``
are independent, so one reusable ECB context decrypts a whole value in a single call (no cipher
context per document); this step then XORs in the previous ciphertext blocks.
"""

from __future__ import annotations


def unchain(ecb_plain: bytes, iv: bytes, data: bytes) -> bytes:
    """``ecb_plain XOR (iv ‖ data[:-len(iv)])``; all three from one value, ``len(ecb_plain) == len(data)``."""
    n = len(data)
    if len(ecb_plain) != n:
        raise ValueError(f"ECB output is {len(ecb_plain)} bytes for {n} bytes of ciphertext")
    prev = iv + data[: n - len(iv)] if n >= len(iv) else iv[:n]
    return (int.from_bytes(ecb_plain, "little") ^ int.from_bytes(prev[:n], "little")).to_bytes(n, "little")
