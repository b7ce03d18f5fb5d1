"""The console script: --version and doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import ravenmigrate


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ravenmigrate", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"ravenmigrate {ravenmigrate.__version__}"


def test_doctor_reports_twins_and_server():
    proc = run_cli("doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["modules"], "every hot module must be listed"
    assert set(report["modules"].values()) <= {"native", "pure"}
    assert report["server"]["started"] is True, report["server"]
    assert report["server"]["version"] == "4.1.0"
    assert report["dependencies"]["msgpack"]


def test_doctor_pure_forced_reports_pure_everywhere():
    proc = run_cli("doctor", "--json", "--no-server", env={"RAVENMIGRATE_PUREPYTHON": "1"})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["pure_forced"] is True
    assert set(report["modules"].values()) == {"pure"}


def test_help_lists_every_command_and_a_command_imports_only_itself(tmp_path):
    """``ravenmigrate --help`` registers every command; running one imports only its own module, and
    reading an export never imports the raw-storage engine (start-up time, docs/benchmarks.md)."""
    proc = run_cli("--help")
    assert proc.returncode == 0
    for name in ("convert", "doctor", "inspect", "load", "verify"):
        assert name in proc.stdout
    sample = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sample-3.5.ravendump")
    code = ("import sys; from ravenmigrate import cli; rc = cli.main(sys.argv[1:]); "
            "mods = sorted(m for m in sys.modules if m.startswith('ravenmigrate.')); "
            "print('MODULES', ' '.join(mods)); raise SystemExit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, "convert", sample, "-o", str(tmp_path / "o.ravendbdump"), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    modules = proc.stdout.split("MODULES", 1)[1].split()
    assert "ravenmigrate.commands.convert" in modules
    assert not {"ravenmigrate.commands.load", "ravenmigrate.commands.verify", "ravenmigrate.server",
                "ravenmigrate.sources.voron.source"} & set(modules)
