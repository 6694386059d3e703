"""The layering of docs/architecture.md holds in the code.

The import contracts (pyproject.toml, [tool.importlinter]) are checked by import-linter; the
rules it cannot state (no import cycle between any two modules, imports under
TYPE_CHECKING and inside functions included; no function over 60 lines) are checked here
from the source itself. Every contract is named in docs/architecture.md, so a sentence there
that says what a layer never imports is a checked one.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nexla_cli"
LONGEST_FUNCTION = 60


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The nexla_cli modules NAME imports anywhere in its source (functions and
    TYPE_CHECKING blocks included), counting `from package import module` as the module."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return (found & known) - {name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_no_module_takes_part_in_an_import_cycle():
    found = modules()
    graph = {name: imported_modules(name, path, set(found)) for name, path in found.items()}
    assert import_cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def long_functions(source: str, limit: int) -> list[tuple[str, int]]:
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > limit
    ]


def test_no_function_is_longer_than_the_bar():
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in PACKAGE.rglob("*.py")
        if (found := long_functions(path.read_text(), LONGEST_FUNCTION))
    }
    assert offenders == {}


def test_the_length_check_measures_a_function_whole():
    source = "def short():\n    pass\n\n\ndef long():\n" + "    x = 1\n" * 61
    assert long_functions(source, LONGEST_FUNCTION) == [("long", 62)]


def test_the_import_contracts_are_kept():
    # lint-imports reads [tool.importlinter] from pyproject.toml in the working directory.
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


def test_every_contract_is_stated_in_the_architecture_page():
    page = (ROOT / "docs" / "architecture.md").read_text()
    # A name may wrap onto the next line of the list.
    stated = [" ".join(name.split()) for name in re.findall(r"^- \*\*(.+?)\*\*", page, re.M | re.S)]
    assert sorted(stated) == sorted(contract_names())


@pytest.mark.parametrize(
    "page", sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"], ids=lambda page: page.name
)
def test_no_page_claims_an_import_rule_that_is_not_a_contract(page):
    # "X never imports Y" is a promise about the code: the paragraph or list item saying it
    # names the contract that checks it (docs/architecture.md), or it is not said.
    blocks = re.split(r"\n\s*\n|\n(?=\s*- )", page.read_text())
    names = contract_names()
    unchecked = [
        block.strip()
        for block in map(" ".join, map(str.split, blocks))
        if re.search(r"\bnever imports?\b", block) and not any(name in block for name in names)
    ]
    assert unchecked == []
