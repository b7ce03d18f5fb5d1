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


def test_the_command_ends_with_everything_written_and_the_exit_code_of_main(tmp_path):
    """`python -m ravenmigrate` ends through cli.exit_now (no interpreter teardown): the output and the
    report are complete, the summary reaches stdout, and the exit code is main's, 0 or 1."""
    from ravenmigrate.cli import main

    sample = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sample-3.5.ravendump")
    proc = run_cli("convert", sample, "-o", str(tmp_path / "cli.ravendbdump"), "--report", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("convert completed\n") and "  time " in proc.stdout
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "completed"
    assert main(["convert", sample, "-o", str(tmp_path / "in-process.ravendbdump"), "-q"]) == 0
    assert (tmp_path / "cli.ravendbdump").read_bytes() == (tmp_path / "in-process.ravendbdump").read_bytes()
    proc = run_cli("convert", str(tmp_path / "missing.ravendump"), "-o", str(tmp_path / "x.ravendbdump"))
    assert proc.returncode == 1 and "missing.ravendump" in proc.stderr


def test_exit_now_runs_atexit_flushes_and_waits_for_a_running_non_daemon_thread(tmp_path):
    """exit_now: atexit handlers run, buffered stdout is flushed; while a non-daemon thread still runs,
    the normal exit is taken, so the thread's work is not lost."""
    code = ("import atexit, sys, threading, time; from ravenmigrate import cli; "
            "atexit.register(lambda: print('atexit ran')); sys.stdout.write('x' * 100000); "
            "late = sys.argv[1]; "
            "late and threading.Thread(target=lambda: (time.sleep(0.3), open(late, 'w').write('done'))).start(); "
            "cli.exit_now(3)")
    proc = subprocess.run([sys.executable, "-c", code, ""], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "x" * 100000 + "atexit ran\n"
    late = tmp_path / "late.txt"
    proc = subprocess.run([sys.executable, "-c", code, str(late)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "x" * 100000 + "atexit ran\n"
    assert late.read_text() == "done"
