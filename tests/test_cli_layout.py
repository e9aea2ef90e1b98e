"""The CLI stays thin: each module small, none with SQL or file writes of its own (those are
the library's, behind one call per command)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

CLI = Path(__file__).parent.parent / "newsletter" / "cli"
MODULES = sorted(CLI.glob("*.py"))
MAX_LINES = 500
SQL = re.compile(
    r"\b(select|insert|delete)\(|\btext\(\s*[\"'](SELECT|INSERT|UPDATE|DELETE|CREATE)\b"
    r"|\.execute\(",
    re.IGNORECASE,
)
WRITES = ("write_text", "write_bytes", "write_atomically", "mkdir", "unlink", "rmtree")


def test_the_cli_has_its_modules() -> None:
    assert {path.name for path in MODULES} >= {"__init__.py", "common.py", "ingest.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_cli_module_is_over_500_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_cli_modules_hold_no_sql(path: Path) -> None:
    found = [match.group(0) for match in SQL.finditer(path.read_text())]
    found += [module for module in _imports(path) if module.split(".")[0] == "sqlalchemy"]
    assert found == [], f"{path.name}: SQL belongs in newsletter/pool"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_cli_modules_write_no_files(path: Path) -> None:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in WRITES or name.startswith("write_atomically"):
            found.append(name)
        if name == "open" and any(_writes(argument) for argument in _mode_of(node)):
            found.append("open(..., 'w')")
    assert found == [], f"{path.name}: writing files belongs in the library"


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(node.module or "")
    return found


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _mode_of(call: ast.Call) -> list[ast.expr]:
    """The mode argument of an open() call: the second positional one, or mode=."""
    given = [keyword.value for keyword in call.keywords if keyword.arg == "mode"]
    positional = call.args[1:2] if isinstance(call.func, ast.Name) else call.args[:1]
    return given + positional


def _writes(mode: ast.expr) -> bool:
    return (
        isinstance(mode, ast.Constant)
        and isinstance(mode.value, str)
        and (any(flag in mode.value for flag in "wax+"))
    )


def test_the_scan_finds_what_it_looks_for() -> None:
    assert SQL.search("pool.execute(select(Item))")
    assert SQL.search('text("SELECT 1")')
    tree = ast.parse("open(path, 'w')\npath.open('a')\nwrite_atomically_bytes(p, b'')")
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert [_writes(mode) for call in calls if _name(call.func) == "open"
            for mode in _mode_of(call)] == [True, True]  # fmt: skip


def test_the_command_table_names_where_each_command_is_registered() -> None:
    """`newsletter items` imports only its own module: COMMANDS must say, for every command,
    which modules register it (and no module may register a command the table does not list)."""
    import importlib

    from newsletter.cli import COMMANDS, cli

    for name in {module for modules in COMMANDS.values() for module in modules}:
        importlib.import_module(f"newsletter.cli.{name}")
    assert set(cli.commands) == set(COMMANDS)
    assert {path.stem for path in MODULES} - {"__init__", "common"} == {
        module for modules in COMMANDS.values() for module in modules
    }


def test_a_command_imports_its_own_module_and_not_the_others() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from newsletter.cli import cli\n"
        "cli.get_command(None, 'items')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('newsletter.cli.'))))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == ["newsletter.cli.common", "newsletter.cli.pool"]
