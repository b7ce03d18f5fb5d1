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
