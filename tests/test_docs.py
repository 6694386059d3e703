"""The docs hold together: the README's commands are what CI runs, every test the docs name
exists, every link between them leads somewhere, and nothing cites a document outside the
project (README.md, docs/README.md)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Written alongside these docs by other changes; a link to one is checked once it exists.
PENDING = {
    "docs/sessions.md",
    "docs/network.md",
    "docs/storage.md",
    "docs/signing-in.md",
    "docs/scripting.md",
    "docs/keyring.md",
    "docs/api-facts.md",
}
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A test named in the docs: tests/TIER/test_x.py::test_name (TIER: unit, app or e2e), in
# backticks or not.
TEST_REFERENCE = re.compile(
    r"(?:`(?:tests/)?|\btests/)((?:unit/|app/|e2e/)?test_\w+\.py)::(\w+)"
)


def project_files():
    """The project's own text files: code, tests, docs, scripts, CI (no venv, no build)."""
    for top in ("nexla_cli", "tests", "docs", "scripts", "benchmarks", "completions", ".ci"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                yield path
    for name in ("README.md", "pyproject.toml"):
        yield ROOT / name


def test_the_quick_start_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' "
        "&& .venv/bin/python -m pytest -n auto"
    )
    assert command in readme
    assert command in ci.splitlines()  # the line CI runs, word for word
    assert (
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/nexla env configure"
        in readme
    )


def test_the_readme_is_for_users_and_short():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250


def test_nothing_cites_a_document_outside_the_project():
    outside = re.compile(r"\b" + "SP" + r"EC\b")  # spelled apart, so this file passes too
    offenders = []
    for path in project_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if outside.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "cite README.md or docs/ instead:\n" + "\n".join(offenders)


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_test_named_in_the_docs_exists(doc):
    for filename, name in TEST_REFERENCE.findall(doc.read_text()):
        source = ROOT / "tests" / filename
        assert source.exists(), f"{doc.name} names {filename}, which is gone"
        assert re.search(rf"^def {name}\(", source.read_text(), re.M), (
            f"{doc.name} names {filename}::{name}, which is gone"
        )


def test_the_reliability_doc_names_the_tests_of_its_promises():
    # docs/reliability.md backs each promise with a test; a handful would mean the list was lost.
    references = TEST_REFERENCE.findall((ROOT / "docs" / "reliability.md").read_text())
    assert len(references) >= 30


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = heading.strip().lower().replace(" ", "-")
    return re.sub(r"[^\w\-]", "", text)


def anchors(path: Path) -> set:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_links_between_the_docs_lead_somewhere(doc):
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        name, _, anchor = target.partition("#")
        path = (doc.parent / name).resolve() if name else doc
        relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        if not path.exists() and relative in PENDING:
            continue
        assert path.exists(), f"{doc.name} links to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(path), f"{doc.name} links to {target}: no such heading"


def test_the_docs_index_lists_every_doc():
    index = (ROOT / "docs" / "README.md").read_text()
    listed = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    present = {path.name for path in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert present <= listed
    assert {Path(name).name for name in PENDING} <= listed
