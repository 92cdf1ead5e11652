"""Import layering: the core stays free of Qt, and the domain free of SQL (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "QtWidgets", "QtGui", "QtCore")


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, absolute, at any depth (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = path.relative_to(ROOT).parent.parts
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


def sources(*folders: str) -> list[Path]:
    files = [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]
    return [p for p in files if "__pycache__" not in p.parts]


def offending(paths: list[Path], banned: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        bad = sorted(
            name
            for name in imported_modules(path)
            if any(part in banned for part in name.split("."))
        )
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_scan_sees_the_packages():
    assert len(sources("pos_app/domain")) >= 10
    assert len(sources("db")) >= 4


def test_the_scan_would_catch_an_import(tmp_path):
    probe = ROOT / "pos_app" / "domain" / "money.py"
    names = imported_modules(probe)
    assert "pos_app.domain.errors.InvalidInput" in names
    fake = tmp_path / "fake.py"
    fake.write_text("def f():\n    from PySide6.QtWidgets import QLabel\nimport sqlalchemy.orm\n")
    assert {"PySide6.QtWidgets", "sqlalchemy.orm"} <= imported_modules(fake)


@pytest.mark.parametrize("folder", ["pos_app/domain", "db", "hardware", "hq", "pos_app/sync"])
def test_core_imports_no_qt(folder):
    assert offending(sources(folder), QT) == {}


def test_the_domain_imports_no_sqlalchemy_or_alembic():
    assert offending(sources("pos_app/domain"), ("sqlalchemy", "alembic", "sqlite3")) == {}


def test_the_domain_imports_nothing_from_the_layers_above_it():
    found = {}
    for path in sources("pos_app/domain"):
        bad = sorted(
            name
            for name in imported_modules(path)
            if name.split(".")[0] == "db"
            or name.startswith(
                ("pos_app.services", "pos_app.ui", "pos_app.sync", "pos_app.cli", "hardware")
            )
        )
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    assert found == {}


def test_db_does_not_import_the_services():
    found = {
        str(p.relative_to(ROOT)): sorted(
            n for n in imported_modules(p) if n.startswith(("pos_app.services", "pos_app.ui"))
        )
        for p in sources("db")
    }
    assert {k: v for k, v in found.items() if v} == {}


def test_hq_stands_apart_from_the_till():
    """The HQ server is its own program: the till's services, UI, CLI and store database
    schema are not its to import (the two share only what a wire format will define)."""
    assert len(sources("hq")) >= 5
    till_side = ("pos_app.services", "pos_app.ui", "pos_app.cli", "db.", "hardware")
    found = {
        str(p.relative_to(ROOT)): sorted(
            n for n in imported_modules(p) if n == "db" or n.startswith(till_side)
        )
        for p in sources("hq")
    }
    assert {k: v for k, v in found.items() if v} == {}
