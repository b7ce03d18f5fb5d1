"""``load``/``verify``/``check-target`` against the real RavenDB 4.1 started secured (HTTPS, a
self-signed server certificate made in the test, client certificates): PEM and PFX client
certificates, the pre-flight's permission checks, and the errors a user meets (http against https,
wrong CA, expired or unknown certificate) — each a clear message, exit 1, no traceback."""

from __future__ import annotations

import json
import uuid

import pytest
from conftest import PFX_PASSWORD, READWRITE_DB, real

from ravenmigrate import cli

pytestmark = pytest.mark.server

NORTHWIND = "Northwind_3.5.35168.ravendump"
REVISIONS = "Revisions_3.5.35220.ravendump"


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run(*argv: str) -> int:
    return cli.main([str(a) for a in argv])


def verify_ok(secured, db: str, fixture: str, capsys, *cert: str) -> dict:
    capsys.readouterr()
    rc = run("verify", real(fixture), "--url", secured.url, "-d", db, "--ca", secured.ca, *cert, "--json")
    result = json.loads(capsys.readouterr().out)
    assert rc == 0 and result["ok"], result
    for section in ("documents", "attachments", "revisions", "identities", "indexes"):
        assert result[section]["missing"] == 0 and result[section]["different"] == 0, (section, result[section])
    return result


def test_load_and_verify_with_pem_certificate(secured, tmp_path, capsys):
    db = name("pem")
    report = tmp_path / "r.json"
    assert run("load", real(NORTHWIND), "--url", secured.url, "--certificate", secured.admin_pem, "--ca", secured.ca,
               "-d", db, "--create", "--report", report, "-q") == 0
    assert json.loads(report.read_text())["status"] == "completed"
    result = verify_ok(secured, db, NORTHWIND, capsys, "--certificate", secured.admin_pem)
    assert result["documents"]["expected"] == result["documents"]["found"] > 1000
    # read in ranges, each over its own TLS connection with the same client certificate
    assert verify_ok(secured, db, NORTHWIND, capsys, "--certificate", secured.admin_pem, "--streams", "3") == result


def test_load_and_verify_with_pfx_and_password_from_environment(secured, tmp_path, capsys, monkeypatch):
    db = name("pfx")
    report = tmp_path / "r.json"
    monkeypatch.setenv("RAVENMIGRATE_URL", secured.url)
    monkeypatch.setenv("RAVENMIGRATE_CERTIFICATE", str(secured.admin_pfx))
    monkeypatch.setenv("RAVENMIGRATE_CERTIFICATE_PASSWORD", PFX_PASSWORD)
    assert run("load", real(REVISIONS), "--ca", secured.ca, "-d", db, "--create", "--report", report, "-q") == 0
    text = report.read_text()
    assert PFX_PASSWORD not in text and json.loads(text)["counts"]["revisions"] > 0
    assert PFX_PASSWORD not in capsys.readouterr().out
    result = verify_ok(secured, db, REVISIONS, capsys)
    assert result["revisions"]["found"] == result["revisions"]["expected"] > 0


def test_pfx_password_given_as_option(secured, tmp_path, capsys):
    db = name("pfxopt")
    assert run("load", real(NORTHWIND), "--url", secured.url, "--certificate", secured.admin_pfx,
               "--certificate-password", PFX_PASSWORD, "--ca", secured.ca, "-d", db, "--create", "-q") == 0
    verify_ok(secured, db, NORTHWIND, capsys, "--certificate", secured.admin_pfx,
              "--certificate-password", PFX_PASSWORD)


def failure(capsys, *argv) -> str:
    """Run a command that must fail cleanly: exit 1 and one error message (no traceback)."""
    capsys.readouterr()
    assert run(*argv) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    return out.err + out.out


def test_readwrite_certificate_loads_into_its_database(secured, capsys):
    assert run("load", real(NORTHWIND), "--url", secured.url, "--certificate", secured.readwrite_pem,
               "--ca", secured.ca, "-d", READWRITE_DB, "-q") == 0
    verify_ok(secured, READWRITE_DB, NORTHWIND, capsys, "--certificate", secured.readwrite_pem)


def test_readwrite_certificate_cannot_create(secured, capsys):
    db = name("rwcreate")
    err = failure(capsys, "load", real(NORTHWIND), "--url", secured.url, "--certificate", secured.readwrite_pem,
                  "--ca", secured.ca, "-d", db, "--create", "-q")
    assert "pre-flight" in err and "nothing was sent" in err
    assert "Operator" in err and "PUT /admin/databases" in err and "ValidUser" in err
    with secured.client() as admin:
        assert db not in admin.database_names()


def test_readwrite_certificate_cannot_configure_revisions(secured, capsys):
    with secured.client() as admin:
        before = admin.stats(READWRITE_DB)["CountOfDocuments"]
    err = failure(capsys, "load", real(REVISIONS), "--url", secured.url, "--certificate", secured.readwrite_pem,
                  "--ca", secured.ca, "-d", READWRITE_DB, "-q")
    assert "DatabaseAdmin" in err and "/admin/revisions/config" in err and "nothing was sent" in err
    with secured.client() as admin:
        assert admin.stats(READWRITE_DB)["CountOfDocuments"] == before


def test_readwrite_certificate_has_no_access_to_other_databases(secured, capsys):
    db = name("other")
    with secured.client() as admin:
        admin.create_database(db)
    err = failure(capsys, "load", real(NORTHWIND), "--url", secured.url, "--certificate", secured.readwrite_pem,
                  "--ca", secured.ca, "-d", db, "-q")
    assert "may not access database" in err and "ReadWrite" in err


def test_unknown_certificate(secured, capsys):
    err = failure(capsys, "load", real(NORTHWIND), "--url", secured.url, "--certificate", secured.unknown_pem,
                  "--ca", secured.ca, "-d", name("unknown"), "--create", "-q")
    assert "is unknown to the server" in err and "ravenmigrate-unknown" in err


def test_expired_certificate(secured, capsys):
    err = failure(capsys, "load", real(NORTHWIND), "--url", secured.url, "--certificate", secured.expired_pem,
                  "--ca", secured.ca, "-d", name("expired"), "--create", "-q")
    assert "expired on" in err and "expired.pem" in err


def test_http_url_against_secured_server(secured, capsys):
    err = failure(capsys, "load", real(NORTHWIND), "--url", secured.url.replace("https://", "http://"),
                  "-d", name("http"), "--create", "-q")
    assert "did you forget to change 'http://' to 'https://'" in err


def test_wrong_ca(secured, capsys):
    err = failure(capsys, "verify", real(NORTHWIND), "--url", secured.url, "--certificate", secured.admin_pem,
                  "--ca", secured.other_ca, "-d", READWRITE_DB)
    assert "cannot verify the TLS certificate" in err and "other-ca.pem" in err


def test_system_trust_store_does_not_trust_a_self_signed_server(secured, capsys):
    err = failure(capsys, "check-target", "--url", secured.url, "--certificate", secured.admin_pem)
    assert "cannot verify the TLS certificate" in err and "--ca" in err


def test_wrong_pfx_password(secured, capsys):
    err = failure(capsys, "check-target", "--url", secured.url, "--certificate", secured.admin_pfx,
                  "--certificate-password", "nope", "--ca", secured.ca)
    assert "wrong password" in err and "nope" not in err


def test_check_target_reports_clearance(secured, capsys):
    capsys.readouterr()
    assert run("check-target", "--url", secured.url, "--certificate", secured.readwrite_pem, "--ca", secured.ca,
               "-d", READWRITE_DB) == 0
    out = capsys.readouterr().out
    assert "check-target OK" in out and "ValidUser" in out and f"{READWRITE_DB}: ReadWrite" in out
    assert "build 41001" in out and "ravenmigrate-readwrite" in out
    err = failure(capsys, "check-target", "--url", secured.url, "--certificate", secured.readwrite_pem,
                  "--ca", secured.ca, "-d", READWRITE_DB, "--source", real(REVISIONS))
    assert "check-target FAILED" in err and "DatabaseAdmin" in err


def test_newer_major_gets_a_warning_naming_what_was_tested():
    from ravenmigrate.sinks.server.preflight import Facts, version_warnings

    newer = Facts("https://db", build={"BuildVersion": 60015, "ProductVersion": "6.0", "FullVersion": "6.0.105"})
    (warning,) = version_warnings(newer)
    assert "6.0.105" in warning and "only tested against RavenDB 4.1" in warning and "smuggler import" in warning
    assert version_warnings(Facts("https://db", build={"BuildVersion": 41001, "ProductVersion": "4.1"})) == []


def test_read_only_access_cannot_load():
    from ravenmigrate.sinks.server.preflight import Facts, Needs, check

    facts = Facts("https://db", secure=True, database="db", database_exists=True,
                  certificate={"Name": "reader", "Thumbprint": "AB", "SecurityClearance": "ValidUser",
                               "Permissions": {"DB": "Read"}})
    (problem,) = check(facts, Needs())
    assert "has Read access" in problem and "needs ReadWrite" in problem


def test_dry_run_against_the_secured_server(secured, capsys):
    capsys.readouterr()
    assert run("load", real(NORTHWIND), "--url", secured.url, "--certificate", secured.admin_pem, "--ca", secured.ca,
               "-d", name("dry"), "--create", "--dry-run", "-q") == 0
    out = capsys.readouterr().out
    assert "nothing was written" in out and "4.1" in out


def test_password_is_asked_for_without_echo(secured):
    """No password given for a password-protected PFX: asked for on the terminal, not echoed."""
    import os
    import pty
    import sys
    import time

    argv = [sys.executable, "-m", "ravenmigrate", "check-target", "--url", secured.url, "--certificate",
            str(secured.admin_pfx), "--ca", str(secured.ca)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAVENMIGRATE_CERTIFICATE")}
    pid, fd = pty.fork()
    if pid == 0:  # the child, on the pseudo-terminal
        os.execve(sys.executable, argv, env)
    out = b""
    deadline = time.monotonic() + 120
    answered = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not answered and b"password for" in out:
            os.write(fd, PFX_PASSWORD.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert answered and os.waitstatus_to_exitcode(status) == 0, text
    assert "check-target OK" in text and "ClusterNode" in text
    assert PFX_PASSWORD not in text
