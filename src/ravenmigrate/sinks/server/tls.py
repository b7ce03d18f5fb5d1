"""TLS for secured RavenDB 4.x servers: the client certificate (PEM or PFX/PKCS#12, decoded with
``cryptography``), the trust (the system store, or ``--ca``), TLS 1.2 or newer.

A secured 4.x server authenticates every connection by its X.509 client certificate and
authorizes it by the certificate's registered clearance (``docs/security.md``). The standard
library's ``ssl`` only loads a certificate chain from files, so the decoded certificate and key
are written to a private temporary directory for the moment ``load_cert_chain`` reads them, the
key encrypted with a one-time random passphrase (the plain key never touches the disk); the files
are removed at once.
"""

from __future__ import annotations

import datetime as _dt
import os
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import RavenMigrateError
from ...fields import FrozenFields

if TYPE_CHECKING:  # cryptography is imported where a certificate is read: not at every start-up (~30 ms)
    from cryptography import x509


class CertificateError(RavenMigrateError):
    """The client certificate, its key or the CA file cannot be used."""


class ClientCertificate(FrozenFields):
    """A decoded client certificate: the leaf, its private key (PEM, encrypted with ``passphrase``)
    and any further chain certificates."""

    __slots__ = ("path", "certificate", "key_pem", "passphrase", "chain")

    def __init__(self, path: str, certificate: x509.Certificate, key_pem: bytes, passphrase: bytes,
                 chain: tuple[x509.Certificate, ...] = ()) -> None:
        self._fill(path, certificate, key_pem, passphrase, chain)

    def __repr__(self) -> str:  # without the key and its passphrase
        return f"ClientCertificate(path={self.path!r}, subject={self.subject!r})"

    @property
    def thumbprint(self) -> str:
        """SHA-1 of the DER certificate in upper-case hex: the key RavenDB registers certificates by."""
        from cryptography.hazmat.primitives import hashes

        return self.certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - RavenDB's thumbprint

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def not_after(self) -> _dt.datetime:
        return self.certificate.not_valid_after_utc

    @property
    def not_before(self) -> _dt.datetime:
        return self.certificate.not_valid_before_utc

    def check_validity(self, now: _dt.datetime | None = None) -> None:
        """Refuse a certificate outside its validity period (the server would answer 403 for every
        request: ``RavenServer.AuthenticateConnectionCertificate`` sets Expired / NotYetValid)."""
        now = now or _dt.datetime.now(_dt.timezone.utc)
        if self.not_after < now:
            raise CertificateError(f"client certificate {self.path} ({self.subject}) expired on "
                                   f"{self.not_after:%Y-%m-%d %H:%M} UTC; a secured RavenDB refuses it "
                                   f"(ask the server's administrator for a new one)")
        if self.not_before > now:
            raise CertificateError(f"client certificate {self.path} ({self.subject}) is not valid before "
                                   f"{self.not_before:%Y-%m-%d %H:%M} UTC")


def needs_password(data: bytes) -> bool:
    """Whether a certificate file's key cannot be read without a password."""
    if b"-----BEGIN" in data:
        return b"ENCRYPTED" in data
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        pkcs12.load_key_and_certificates(data, None)
    except (ValueError, TypeError):
        return True
    return False


def load_certificate(path: str | os.PathLike, password: str | None = None) -> ClientCertificate:
    """Decode a client certificate file: PEM holding the certificate and its private key (the key
    may be encrypted), or PFX/PKCS#12 (optionally with a password)."""
    path = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read client certificate {path}: {exc.strerror or exc}") from None
    secret = password.encode() if password else None
    if b"-----BEGIN" in data:
        cert, key, chain = _from_pem(path, data, secret)
    else:
        cert, key, chain = _from_pkcs12(path, data, secret)
    if key is None:
        raise CertificateError(f"client certificate {path} holds no private key (a PEM file needs the "
                               f"certificate and its key, e.g. RavenDB's .crt and .key concatenated)")
    if cert is None:
        raise CertificateError(f"client certificate {path} holds a private key but no certificate")
    import secrets

    from cryptography.hazmat.primitives import serialization

    passphrase = secrets.token_hex(16).encode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(passphrase))
    return ClientCertificate(path, cert, key_pem, passphrase, tuple(chain))


def _from_pem(path: str, data: bytes, secret: bytes | None):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    key = None
    start = _key_block(data)
    if start is not None:
        try:
            key = serialization.load_pem_private_key(data[start:], secret)
        except TypeError:
            raise CertificateError(f"the private key in {path} is encrypted: give its password "
                                   f"(--certificate-password or RAVENMIGRATE_CERTIFICATE_PASSWORD)") from None
        except ValueError:
            raise CertificateError(f"cannot decrypt the private key in {path}: wrong password, or not a "
                                   f"PEM private key") from None
    if not certs and key is None:
        raise CertificateError(f"{path} is neither a PEM certificate with its key nor a PFX/PKCS#12 file")
    return (certs[0] if certs else None), key, certs[1:]


def _key_block(data: bytes) -> int | None:
    for marker in (b"-----BEGIN PRIVATE KEY", b"-----BEGIN ENCRYPTED PRIVATE KEY", b"-----BEGIN RSA PRIVATE KEY",
                   b"-----BEGIN EC PRIVATE KEY"):
        at = data.find(marker)
        if at >= 0:
            return at
    return None


def _from_pkcs12(path: str, data: bytes, secret: bytes | None):
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, secret)
    except ValueError as exc:
        if secret is None:
            raise CertificateError(f"{path} is a password-protected PFX/PKCS#12 file (give its password with "
                                   f"--certificate-password or RAVENMIGRATE_CERTIFICATE_PASSWORD), or not a "
                                   f"certificate at all") from None
        raise CertificateError(f"cannot open PFX/PKCS#12 {path}: wrong password, or not a PKCS#12 file "
                               f"({_reason(exc)})") from None
    return cert, key, list(chain or [])


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__


def context(certificate: ClientCertificate | None = None, ca: str | os.PathLike | None = None) -> ssl.SSLContext:
    """A client TLS context: verifies the server against *ca* (a PEM file of trusted certificates)
    or the system trust store, checks the host name, TLS 1.2 at least, presents *certificate*."""
    try:
        ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(f"cannot load the CA file {ca}: {_reason(exc)} (expected PEM certificates)") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if certificate is not None:
        _load_chain(ctx, certificate)
    return ctx


def _load_chain(ctx: ssl.SSLContext, cert: ClientCertificate) -> None:
    import tempfile  # here: a command that is given no certificate does not import it

    from cryptography.hazmat.primitives import serialization

    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (cert.certificate, *cert.chain))
    with tempfile.TemporaryDirectory(prefix="ravenmigrate-tls-") as tmp:
        os.chmod(tmp, 0o700)
        cert_file, key_file = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        for name, data in ((cert_file, chain), (key_file, cert.key_pem)):
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        try:
            ctx.load_cert_chain(cert_file, key_file, password=cert.passphrase)
        except ssl.SSLError as exc:
            raise CertificateError(f"client certificate {cert.path} cannot be used for TLS: {_reason(exc)}") from None


def describe_tls_error(exc: BaseException, url: str, ca: str | None) -> str:
    """What a TLS failure means for the user, in one line."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        hint = (f"the CA file {ca} does not vouch for it" if ca else
                "it is not trusted by the system's trust store: pass --ca FILE with the CA (or the server's own "
                "certificate for a self-signed server)")
        return f"cannot verify the TLS certificate of {url}: {exc.verify_message or exc.reason}; {hint}"
    reason = getattr(exc, "reason", None) or _reason(exc)
    if reason in ("WRONG_VERSION_NUMBER", "UNEXPECTED_EOF_WHILE_READING", "RECORD_LAYER_FAILURE") or "wrong version" in str(exc):
        return (f"TLS handshake with {url} failed ({reason}): is the server secured? An unsecured RavenDB "
                f"answers http:// only")
    return f"TLS handshake with {url} failed: {reason}"
