"""The shape of the package: the lookup core never imports Pulumi, the emulator stands alone,
and the Pulumi face sits on top (arrows one way)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pulumi_yc_websocket

PACKAGE = Path(pulumi_yc_websocket.__file__).parent
PULUMI_FACE = {
    "provider",
    "testing",
    "_resource",
    "_functions",
    "_lookup",
    "_outputs",
    "_pulumi_config",
    "_plugin",
    "_schema",
}
"""The Pulumi faces: modules that import ``pulumi``, or know Pulumi's names (``_pulumi_config``
maps stack config keys, ``_outputs`` the state's property names, ``_schema`` the package
schema) for those that do. ``_plugin`` is the provider plugin's server."""


def modules() -> dict[str, Path]:
    return {path.stem: path for path in PACKAGE.glob("*.py")}


def imported_modules(path: Path) -> set[str]:
    """What a module imports when it runs, as absolute names; imports for type checkers only
    (under ``if TYPE_CHECKING:``) do not count."""
    package = ".".join(("pulumi_yc_websocket", *path.parent.relative_to(PACKAGE).parts))
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text("utf-8"))]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return found


def test_the_core_imports_neither_pulumi_nor_the_pulumi_face() -> None:
    core = {name: path for name, path in modules().items() if name not in PULUMI_FACE}
    assert {"_client", "_auth", "_settings", "_model", "_cli", "__init__"} <= set(core)
    for name, path in core.items():
        imported = imported_modules(path)
        assert not {m for m in imported if m == "pulumi" or m.startswith("pulumi.")}, name
        face = {f"pulumi_yc_websocket.{module}" for module in PULUMI_FACE}
        assert not imported & face, f"{name} imports {sorted(imported & face)}"


def test_importing_the_core_loads_no_pulumi() -> None:
    core = sorted(
        f"pulumi_yc_websocket.{name}"
        for name in modules()
        if name not in PULUMI_FACE and name != "__main__"
    )
    script = "import sys\n" + "".join(f"import {name}\n" for name in core)
    script += "assert not [m for m in sys.modules if m.split('.')[0] == 'pulumi'], 'pulumi'\n"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_the_emulator_imports_nothing_of_the_package_outside_it() -> None:
    for path in (PACKAGE / "emulator").glob("*.py"):
        for module in imported_modules(path):
            if module.startswith("pulumi_yc_websocket"):
                assert module.startswith("pulumi_yc_websocket.emulator"), (path.name, module)
