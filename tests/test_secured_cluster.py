"""Topology routing, encrypted databases and the revisions configuration merge against the real
secured RavenDB 4.1 (docs/security.md §4-§6).

A multi-node cluster cannot run here (the unlicensed 4.1 refuses a second node: tested below), so
routing is tested with two independent one-node clusters sharing the server certificate: the
secured server that holds the database and a second one that does not (``Database-Missing``) or
holds a record of it for another node only (410 ``DatabaseNotRelevantException``)."""

from __future__ import annotations

import json
import stat
import uuid

import pytest
from conftest import real

from ravenmigrate import cli
from ravenmigrate.server import EmbeddedServer
from ravenmigrate.sinks.server import target
from ravenmigrate.sinks.server.client import RavenClient
from ravenmigrate.sinks.server.loader import Loader, LoadOptions
from ravenmigrate.sinks.server.topology import Node, Topology

pytestmark = pytest.mark.server

NORTHWIND = "Northwind_3.5.35168.ravendump"
REVISIONS = "Revisions_3.5.35220.ravendump"


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def second(secured):
    """A second, independent secured 4.1 (its own one-node cluster) with the same server certificate."""
    srv = EmbeddedServer(certificate=secured.dir / "server.pfx", certificate_password="server-pfx")
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


def verify_ok(secured, db: str, fixture: str, capsys, *extra: str) -> dict:
    capsys.readouterr()
    rc = cli.main(["verify", str(real(fixture)), "--url", secured.url, "-d", db, "--certificate",
                   str(secured.admin_pem), "--ca", str(secured.ca), "--json", *extra])
    result = json.loads(capsys.readouterr().out)
    assert rc == 0 and result["ok"], result
    for section in ("documents", "attachments", "revisions", "identities", "indexes"):
        assert result[section]["missing"] == 0 and result[section]["different"] == 0
    return result


def test_unlicensed_server_refuses_a_second_node(secured, second):
    """The claim of docs/security.md §5: the 4.1 without a license runs one node."""
    with secured.client() as admin:
        lic = admin.json("GET", "/license/status")
        assert lic["Type"] == "None" and lic["MaxClusterSize"] == 1 and lic["DistributedCluster"] is False
        status, data = admin.request("PUT", f"/admin/cluster/node?url={second.url}", ok=(402,))
    assert b"does not allow adding nodes to the cluster" in data


def test_url_of_a_server_without_the_database_is_skipped(secured, second, tmp_path, capsys):
    db = name("seeds")
    with secured.client() as admin:
        admin.create_database(db)
    report = tmp_path / "r.json"
    assert cli.main(["load", str(real(NORTHWIND)), "--url", f"{second.url},{secured.url}", "-d", db,
                     "--certificate", str(secured.admin_pem), "--ca", str(secured.ca), "--streams", "2",
                     "--report", str(report), "-q"]) == 0
    rep = json.loads(report.read_text())
    assert rep["nodes"] == [[secured.url], [secured.url]]
    verify_ok(secured, db, NORTHWIND, capsys)
    capsys.readouterr()
    assert cli.main(["verify", str(real(NORTHWIND)), "--url", f"{second.url},{secured.url}", "-d", db,
                     "--certificate", str(secured.admin_pem), "--ca", str(secured.ca)]) == 0
    assert f"at {secured.url}" in capsys.readouterr().out


def test_stream_on_a_node_that_no_longer_hosts_the_database_fails_over(secured, second, tmp_path, capsys):
    db = name("moved")
    with secured.client() as admin:
        admin.create_database(db)
    with RavenClient(second.url, ssl_context=second.ssl_context()) as other:
        # a record of the database whose group is another node (B) only: this node answers 410
        other.request("PUT", f"/admin/databases?name={db}", json.dumps(
            {"DatabaseName": db, "Settings": {}, "Disabled": False,
             "Topology": {"Members": [], "Promotables": ["B"], "Rehabs": []}}).encode(),
            {"Content-Type": "application/json"}, ok=(201, 500))
        status, data = other.request("GET", f"/databases/{db}/stats", ok=(410,))
        assert b"DatabaseNotRelevantException" in data
    tgt = target.build((secured.url,), str(secured.admin_pem), None, str(secured.ca))
    stale = Topology(tgt, db, nodes=[Node("A", second.url), Node("A", secured.url)])
    messages: list[str] = []
    options = LoadOptions(url=secured.url, database=db, streams=2, checkpoint=tmp_path / "cp", retry_for=60,
                          progress=False, target=tgt, topology=stale)
    report = Loader(str(real(NORTHWIND)), options, log=messages.append).run()
    assert report["status"] == "completed"
    assert report["nodes"] == [[second.url, secured.url], [secured.url]]
    assert any("410" in m or "DatabaseNotRelevant" in m for m in messages)
    assert stale.urls() == [secured.url]
    counts = report["counts"]
    assert sum(counts["acknowledged_items_per_stream"]) == counts["documents_sent"] > 1000
    verify_ok(secured, db, NORTHWIND, capsys)


def test_existing_revisions_configuration_is_merged_not_replaced(secured, tmp_path, capsys):
    db = name("revmerge")
    orders = {"Disabled": False, "MinimumRevisionsToKeep": 5, "PurgeOnDelete": False}
    with secured.client() as admin:
        admin.create_database(db)
        admin.json("POST", f"/databases/{db}/admin/revisions/config",
                   {"Default": None, "Collections": {"Orders": orders}})
    capsys.readouterr()
    assert cli.main(["load", str(real(REVISIONS)), "--url", secured.url, "-d", db, "--certificate",
                     str(secured.admin_pem), "--ca", str(secured.ca), "-q"]) == 0
    out = capsys.readouterr()
    assert "added collection" in out.err + out.out and "Default and other collections are kept" in out.out
    with secured.client() as admin:
        config = admin.json("GET", f"/databases/{db}/revisions/config")
    assert config["Collections"]["Orders"]["MinimumRevisionsToKeep"] == 5  # kept as the target had it
    added = set(config["Collections"]) - {"Orders"}
    assert added and all(not config["Collections"][c]["Disabled"] for c in added)
    assert config.get("Default") is None
    # a second load changes nothing and says nothing
    capsys.readouterr()
    assert cli.main(["load", str(real(REVISIONS)), "--url", secured.url, "-d", db, "--certificate",
                     str(secured.admin_pem), "--ca", str(secured.ca), "-q", "--checkpoint",
                     str(tmp_path / "again.cp")]) == 0
    assert "revisions configuration" not in capsys.readouterr().out


def test_encrypted_database_create_load_verify(secured, tmp_path, capsys):
    db = name("enc")
    key = tmp_path / "db.key"
    capsys.readouterr()
    assert cli.main(["load", str(real(REVISIONS)), "--url", secured.url, "-d", db, "--create", "--encrypted",
                     "--database-key", str(key), "--certificate", str(secured.admin_pem), "--ca", str(secured.ca),
                     "-q"]) == 0
    out = capsys.readouterr()
    secret = key.read_text().strip()
    assert len(secret) == 44 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert secret not in out.out + out.err
    with secured.client() as admin:
        record = admin.json("GET", f"/admin/databases?name={db}")
        assert record["Encrypted"] is True
        assert db in admin.json("GET", "/admin/secrets")["Keys"]
    verify_ok(secured, db, REVISIONS, capsys)


def test_encrypted_database_with_a_given_key(secured, tmp_path, capsys):
    db = name("enckey")
    key = tmp_path / "given.key"
    with secured.client() as admin:
        key.write_text(admin.request("GET", "/admin/secrets/generate")[1].decode())
    assert cli.main(["load", str(real(NORTHWIND)), "--url", secured.url, "-d", db, "--create", "--encrypted",
                     "--database-key", str(key), "--certificate", str(secured.admin_pem), "--ca", str(secured.ca),
                     "-q"]) == 0
    verify_ok(secured, db, NORTHWIND, capsys)


def test_encrypted_refused_over_http(ravendb, capsys):
    capsys.readouterr()
    assert cli.main(["load", str(real(NORTHWIND)), "--url", ravendb.url, "-d", name("enchttp"), "--create",
                     "--encrypted", "--database-key", "/nonexistent/key", "-q"]) == 1
    err = capsys.readouterr().err
    assert "--encrypted needs an https:// server" in err and "nothing was sent" in err


def test_replication_factor_larger_than_the_cluster(secured, tmp_path, capsys):
    capsys.readouterr()
    assert cli.main(["load", str(real(NORTHWIND)), "--url", secured.url, "-d", name("rf"), "--create",
                     "--replication-factor", "2", "--certificate", str(secured.admin_pem), "--ca",
                     str(secured.ca), "-q"]) == 1
    err = capsys.readouterr().err
    assert "--replication-factor 2" in err and "1 member node(s)" in err


def test_stream_on_a_node_that_is_down_fails_over(secured, tmp_path, capsys):
    """A topology naming a node that no longer answers (connection refused): its stream moves on."""
    from ravenmigrate.server import free_port

    db = name("down")
    with secured.client() as admin:
        admin.create_database(db)
    dead = f"https://127.0.0.1:{free_port()}"
    tgt = target.build((secured.url,), str(secured.admin_pem), None, str(secured.ca))
    stale = Topology(tgt, db, nodes=[Node("B", dead), Node("A", secured.url)])
    options = LoadOptions(url=secured.url, database=db, streams=2, checkpoint=tmp_path / "cp", retry_for=60,
                          progress=False, target=tgt, topology=stale)
    report = Loader(str(real(REVISIONS)), options, log=lambda _m: None).run()
    assert report["status"] == "completed"
    assert report["nodes"] == [[dead, secured.url], [secured.url]]
    verify_ok(secured, db, REVISIONS, capsys)
