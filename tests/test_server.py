"""The real RavenDB 4.1 test server: start, create a database, put and read a document."""

from __future__ import annotations

import json
import subprocess
import urllib.request

from ravenmigrate.server import EmbeddedServer
from ravenmigrate.sinks.server.client import RavenClient


def test_server_reports_version_4_1(ravendb):
    with urllib.request.urlopen(ravendb.url + "/build/version", timeout=10) as r:
        info = json.loads(r.read())
    assert info["ProductVersion"] == "4.1"
    assert 41000 <= info["BuildVersion"] < 42000


def test_create_database_put_and_read_document(ravendb, new_database):
    db = new_database()
    with RavenClient(ravendb.url) as client:
        assert db in client.database_names()
        doc = {"Name": "Alfreds Futterkiste", "Freight": 32.38, "@metadata": {"@collection": "Companies"}}
        client.put_document(db, "companies/1", doc)
        got = client.get_document(db, "companies/1")
        assert got["Name"] == "Alfreds Futterkiste"
        assert got["Freight"] == 32.38
        assert got["@metadata"]["@collection"] == "Companies"
        assert client.get_document(db, "companies/2") is None
        assert client.stats(db)["CountOfDocuments"] == 1


def test_stop_leaves_no_process_behind():
    srv = EmbeddedServer()
    srv.start()
    pid = srv.proc.pid
    srv.close()
    alive = subprocess.run(["ps", "-o", "pid=", "-g", str(pid)], capture_output=True, text=True).stdout.split()
    assert alive == []
    assert not srv.is_up()


def test_server_own_import_of_real_3_5_dump(ravendb, new_database):
    """The baseline every loader is compared with: the server's own /smuggler/import."""
    from conftest import real

    db = new_database()
    with RavenClient(ravendb.url) as client:
        result = client.import_file(db, str(real("Northwind_3.5.35168.ravendump")))
        assert result["Documents"]["ReadCount"] == 1059
        stats = client.stats(db)
        # target-4x.md §14: Northwind 3.5 -> 1059 docs read, Raven/ system docs partly skipped.
        assert 1000 < stats["CountOfDocuments"] <= 1059
        assert client.get_document(db, "orders/830")["@metadata"]["@collection"] == "Orders"


def test_a_killed_test_run_leaves_no_server_behind(tmp_path):
    """The server dies with the process that started it (PR_SET_PDEATHSIG), even on SIGKILL."""
    import os
    import signal
    import sys
    import time

    script = ("import sys, time\n"
              "from ravenmigrate.server import EmbeddedServer\n"
              "srv = EmbeddedServer().start()\n"
              "print(srv.proc.pid, flush=True)\n"
              "time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    server_pid = int(parent.stdout.readline())
    os.kill(server_pid, 0)  # running
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{server_pid}/stat").read().split(")")[1].split()[0] == "Z":
            break  # dead, waiting to be reaped by init
        time.sleep(0.2)
    else:
        os.kill(server_pid, signal.SIGKILL)
        raise AssertionError(f"server {server_pid} outlived its killed parent")
