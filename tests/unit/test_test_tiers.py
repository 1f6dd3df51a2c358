"""The test tiers import only downward: what two tiers share lives in tests/support.

A unit test importing an integration module drags the integration tier's needs (servers, npm's files)
into the tier that must run without them; a benchmark importing a test module breaks when the tests
are reorganised. So: each tier imports support and its own modules, support imports only support,
and bench imports only support (the import roots are tests/ and bench/, as in pyproject's pythonpath).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support.process import ROOT

TIERS = ("support", "unit", "integration", "e2e")
MAY_IMPORT = {
    "support": {"support"},
    "unit": {"support", "unit"},
    "integration": {"support", "integration"},
    "e2e": {"support", "e2e"},
    "tests": {"support"},  # tests/conftest.py, the fixtures every tier shares
    "bench": {"support"},
}
GUARDED = {*TIERS, "bench", "tests"}  # top-level names that are test code, not the project's packages


def tier_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    if parts[0] == "bench":
        return "bench"
    return parts[1] if len(parts) > 2 and parts[1] in TIERS else "tests"


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level name) of every absolute import; ``tests.support.x`` counts as ``support``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "tests" and len(parts) > 1:
                parts = parts[1:]
            found.append((node.lineno, parts[0]))
    return found


def violations(path: Path, source: str) -> list[str]:
    tier = tier_of(path)
    return [f"{path.relative_to(ROOT)}:{line}: {tier} imports {name}"
            for line, name in imported(ast.parse(source, str(path)))
            if name in GUARDED and name not in MAY_IMPORT[tier]]


def test_no_test_code_imports_a_higher_or_sibling_tier():
    files = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])
    assert len(files) > 40 and {tier_of(f) for f in files} == {*TIERS, "tests", "bench"}
    assert [v for f in files for v in violations(f, f.read_text())] == []


@pytest.mark.parametrize("where, line, wrong", [
    ("tests/unit/reporting/test_x.py", "from integration.reporting.seed import History", True),
    ("tests/unit/test_x.py", "import e2e.conftest", True),
    ("tests/integration/test_x.py", "from e2e.test_drills import check", True),
    ("tests/integration/test_x.py", "from unit.reporting.test_projection import matter", True),
    ("tests/e2e/test_x.py", "from integration.escalation.helpers import Run", True),
    ("tests/support/x.py", "from integration.reporting.running import DEMO", True),
    ("bench/x_bench.py", "from integration.reporting.history import county_year", True),
    ("bench/x_bench.py", "from tests.unit.helpers import s", True),
    ("tests/unit/test_x.py", "from unit.escalation.helpers import ROOM", False),
    ("tests/e2e/test_x.py", "from support.system import System", False),
    ("bench/x_bench.py", "from support.history import publish", False),
    ("bench/x_bench.py", "from common import save", False),
    ("tests/integration/test_x.py", "from reporting.store import differences", False),
])
def test_the_check_catches_an_upward_or_sideways_import(where, line, wrong):
    assert bool(violations(ROOT / where, line)) is wrong
