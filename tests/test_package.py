"""The package is self-contained: what code, messages and docs cite is in the project's own docs/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_SUFFIXES = {".py", ".pyx", ".pxi", ".pxd", ".h", ".pyi", ".md"}
# Notes that live outside the package: a user of ravenmigrate does not have them.
OUTSIDE = re.compile(r"shared/reference|target-4x\.md|formats-3x\.md|raw-storage\.md|bundles-3x\.md|\.\./shared")
CITATION = re.compile(r"(docs/[\w./-]+\.md)((?:,? ?§\d+(?:\.\d+)?(?:[-–]§?\d+(?:\.\d+)?)?)*)")


def shipped_texts(folders: tuple[str, ...] = ("src/ravenmigrate", "ext", "docs", "fixtures", "scripts")) -> list[Path]:
    """README and the texts under *folders* (benchmarks may read the real files beside the checkout, as tests do)."""
    files = [ROOT / "README.md"]
    for folder in folders:
        files += [p for p in (ROOT / folder).rglob("*")
                  if p.suffix in SOURCE_SUFFIXES and p.is_file() and "generated" not in p.parts]
    return files


def test_nothing_cites_notes_outside_the_package():
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
            for p in shipped_texts()
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert not hits, "cite docs/... instead:\n" + "\n".join(hits)


def section_exists(doc: str, number: str) -> bool:
    """``§N`` or ``§N.M`` is a heading of *doc*, or item M of the numbered list under heading N."""
    if re.search(rf"^#{{2,3}} {re.escape(number)}[. ]", doc, re.M):
        return True
    head, _, item = number.partition(".")
    match = re.search(rf"^## {head}\. .*?(?=^## |\Z)", doc, re.M | re.S)
    return bool(item and match and re.search(rf"^{item}\. ", match.group(0), re.M))


def test_every_cited_doc_and_section_exists():
    missing = []
    for path in shipped_texts() + shipped_texts(("benchmarks",)):
        for line in path.read_text(encoding="utf-8").splitlines():
            for doc, sections in CITATION.findall(line):
                target = ROOT / doc
                if not target.is_file():
                    missing.append(f"{path.relative_to(ROOT)}: {doc}")
                    continue
                text = target.read_text(encoding="utf-8")
                for number in re.findall(r"§(\d+(?:\.\d+)?)", sections):
                    if not section_exists(text, number):
                        missing.append(f"{path.relative_to(ROOT)}: {doc} §{number}")
    assert not missing, "\n".join(sorted(set(missing)))


def runtime_dependencies() -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0] for spec in project["dependencies"]]


def test_every_runtime_dependency_is_imported_by_the_package():
    """A declared runtime dependency has a job: some module of the package imports it."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src/ravenmigrate").rglob("*.py"))
    unused = [dist for dist in runtime_dependencies()
              if not re.search(rf"^\s*(?:import|from) {re.escape(dist.replace('-', '_'))}\b", code, re.M)]
    assert runtime_dependencies() and not unused, f"declared but never imported: {unused}"
