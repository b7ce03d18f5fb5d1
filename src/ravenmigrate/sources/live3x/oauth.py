"""The 3.x API-key handshake (docs/live3x.md "Auth"), client side.

Migrator_V3 (fitzchak/ravendb v4.1 ``src/Raven.Server/Smuggler/Migration/ApiKey/Authenticator.cs``,
``OAuthHelper.cs``) and the 3.x server (mynkow/ravendb v3.5
``Raven.Database/Server/Controllers/OAuthController.cs``, ``Security/OAuth/OAuthServerHelper.cs``)
agree on: POST to the OAuth source with an empty body -> 412 and ``WWW-Authenticate: Raven
exponent=..,modulus=..,challenge=..``; POST again with ``exponent=..,modulus=..,data=..`` where
``data`` is base64 of RSA-OAEP-SHA1(AES key ‖ IV) followed by AES-256-CBC-PKCS7 of
``api key name=N,challenge=C,response=base64(SHA1(UTF8("C;SECRET")))``; the 200 body is the token,
sent from then on as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

WWW_AUTHENTICATE_PREFIX = "Raven "
CHALLENGE_SALT_LENGTH = 64  # OAuthHelper.Keys.ChallengeSaltLength
OAEP_SHA1 = OAEP(mgf=MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def split_api_key(api_key: str) -> tuple[str, str]:
    """``NAME/SECRET`` split at the first ``/`` (Authenticator.GetApiKeyParts); ValueError if no ``/``."""
    name, sep, secret = api_key.partition("/")
    if not sep:
        raise ValueError("an API key is NAME/SECRET")
    return name.strip(), secret.strip()


def parse_dictionary(text: str) -> dict[str, str]:
    """``k=v,k=v`` (OAuthHelper.ParseDictionary: split at ',', then at the first '=', trimmed)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        out[key.strip()] = value.strip()
    return out


def dictionary_to_string(data: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in data.items())


def challenge_response(challenge: str, secret: str) -> str:
    """base64(SHA1(UTF8("{challenge};{secret}"))) (OAuthHelper.Hash, Keys.ResponseFormat)."""
    return base64.b64encode(hashlib.sha1(f"{challenge};{secret}".encode()).digest()).decode("ascii")


def aes_cbc(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    """AES-CBC with PKCS7 padding, the .NET ``Aes`` defaults the 3.x code uses."""
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    if encrypt:
        padder = padding.PKCS7(128).padder()
        enc = cipher.encryptor()
        return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()
    dec = cipher.decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(dec.update(data) + dec.finalize()) + unpadder.finalize()


def encrypt_asymmetric(exponent: str, modulus: str, text: str) -> str:
    """OAuthHelper.EncryptAsymmetric: a fresh AES-256 key and IV, RSA-OAEP-SHA1 encrypted with the
    server's public key, followed by the AES-256-CBC encryption of *text*; base64."""
    e = int.from_bytes(base64.b64decode(exponent), "big")
    n = int.from_bytes(base64.b64decode(modulus), "big")
    public = rsa.RSAPublicNumbers(e, n).public_key()
    key, iv = os.urandom(32), os.urandom(16)
    sealed = public.encrypt(key + iv, OAEP_SHA1)
    return base64.b64encode(sealed + aes_cbc(key, iv, text.encode("utf-8"), True)).decode("ascii")


def answer(www_authenticate: str, api_key: str) -> str:
    """The body of the second POST, from the 412's ``WWW-Authenticate`` header (ValueError when it
    is not a Raven challenge)."""
    if not www_authenticate.startswith(WWW_AUTHENTICATE_PREFIX):
        raise ValueError(f"not a Raven challenge: {www_authenticate[:200]!r}")
    fields = parse_dictionary(www_authenticate[len(WWW_AUTHENTICATE_PREFIX):].strip())
    exponent, modulus, challenge = fields.get("exponent"), fields.get("modulus"), fields.get("challenge")
    if not exponent or not modulus or not challenge:
        raise ValueError(f"a Raven challenge without exponent, modulus or challenge: {www_authenticate[:200]!r}")
    name, secret = split_api_key(api_key)
    inner = dictionary_to_string({"api key name": name, "challenge": challenge,
                                  "response": challenge_response(challenge, secret)})
    return dictionary_to_string({"exponent": exponent, "modulus": modulus,
                                 "data": encrypt_asymmetric(exponent, modulus, inner)})
