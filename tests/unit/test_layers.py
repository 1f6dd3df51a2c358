"""The dependency rules of docs/ARCHITECTURE.md §8, read from the code: no service imports another, the shared
package imports no service, and the domain modules import no framework, driver or broker.  Every import counts,
the lazy ones inside functions included; a failure names the file, the line and the import."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "escalation", "reporting")
FRAMEWORKS = {"fastapi", "starlette", "uvicorn", "faust", "mode", "aiokafka", "kafka", "asyncpg", "httpx",
              "prometheus_client", "psycopg", "psycopg2", "requests"}
DOMAIN = [
    *ROOT.glob("services/*/domain/**/*.py"),
    *(ROOT / "services/reporting" / name for name in ("projection.py", "figures.py", "periods.py")),
    ROOT / "services/intake/organisation.py",
    *ROOT.glob("shared/xinfang/events/**/*.py"),
    *ROOT.glob("shared/xinfang/county/**/*.py"),
    ROOT / "shared/xinfang/calendar.py",
    ROOT / "shared/xinfang/vocabulary.py",
]


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def breaches(files, forbidden) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line}: imports {package}"
            for path in files for line, package in imported(path) if package in forbidden]


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service):
    others = set(SERVICES) - {service}
    assert breaches(sorted((ROOT / "services" / service).rglob("*.py")), others) == []


def test_the_shared_package_imports_no_service():
    assert breaches(sorted((ROOT / "shared").rglob("*.py")), set(SERVICES)) == []


def test_the_domain_modules_import_no_framework_driver_or_broker():
    assert all(path.exists() for path in DOMAIN), [str(p) for p in DOMAIN if not p.exists()]
    assert breaches(sorted(set(DOMAIN)), FRAMEWORKS) == []


def test_the_checker_sees_a_lazy_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import asyncpg\n    from intake.store import x\n")
    assert imported(module) == [(2, "asyncpg"), (3, "intake")]
