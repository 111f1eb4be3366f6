"""The examples in docstrings run, as they are written, against the modules as imported.

pytest's own doctest collector cannot import a module compiled by mypyc from its source path, and
doctest's finder skips compiled functions; so the docstrings are read from each source with
`ast`, and their examples run in the namespace of the module as it is imported (compiled or not).
"""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "streams", "synth", "agents", "cli")


def _docstrings(path: Path) -> list[tuple[str, int, str]]:
    """(qualified name, line, docstring) of every docstring in `path` holding an example."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}.{child.name}"
                doc = ast.get_docstring(child, clean=False)
                if doc and ">>>" in doc:
                    found.append((name, child.lineno, doc))
                visit(child, name)

    module_doc = ast.get_docstring(tree, clean=False)
    if module_doc and ">>>" in module_doc:
        found.append(("", 1, module_doc))
    visit(tree, "")
    return found


def _cases() -> list[pytest.param]:  # type: ignore[valid-type]
    cases = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            for name, line, doc in _docstrings(path):
                cases.append(pytest.param(module, name, line, doc, id=f"{module}{name}"))
    return cases


CASES = _cases()


def test_the_examples_are_found() -> None:
    """Docstring examples exist in the core, the records and the commands, so this suite runs them."""
    modules = {case.values[0].split(".")[0] for case in CASES}
    assert {"models", "streams", "cli"} <= modules


@pytest.mark.parametrize(("module", "name", "line", "doc"), CASES)
def test_docstring_examples_hold(module: str, name: str, line: int, doc: str) -> None:
    """Every example in the docstring prints what the docstring says it prints."""
    namespace = dict(vars(importlib.import_module(module)))
    test = doctest.DocTestParser().get_doctest(doc, namespace, f"{module}{name}", module, line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)
