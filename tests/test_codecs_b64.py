"""Attachment base64 (ravenmigrate.codecs.b64): pybase64, when installed, gives the stdlib's bytes
and rejects the same inputs."""

from __future__ import annotations

import base64
import random

import pytest

from ravenmigrate.codecs import b64


def _stdlib_decode(text):
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:  # binascii.Error, or not ASCII
        return type(exc).__name__


def _decode(text):
    try:
        return b64.decode(text)
    except ValueError as exc:  # binascii.Error, or not ASCII
        return type(exc).__name__


def test_same_bytes_and_the_same_rejections_as_the_stdlib():
    pytest.importorskip("pybase64")
    assert b64.b64encode.__module__.startswith("pybase64")  # the fast one is what is tested
    rng = random.Random(7)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for size in [*range(0, 70), 1000, 131072]:
        data = rng.randbytes(size)
        text = base64.b64encode(data)
        assert b64.b64encode(data) == text
        assert b64.decode(text) == b64.decode(text.decode()) == data
    for _ in range(3000):  # near-valid text: wrong padding, stray bytes, unused bits set
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 24)))
        text += "=" * rng.randrange(0, 4)
        if rng.random() < 0.2:
            k = rng.randrange(len(text) + 1)
            text = text[:k] + rng.choice(" \n=-_.*\x00é") + text[k:]
        assert _decode(text) == _stdlib_decode(text), text
