"""The emulator's public surface: one list of names, standalone imports, documented endpoints."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pulumi_yc_websocket.emulator as emulator
from pulumi_yc_websocket.emulator import __main__ as command_line
from pulumi_yc_websocket.emulator._admin import ADMIN_PREFIX, ROUTES

PACKAGE_DIR = Path(emulator.__file__).parent
README = Path(__file__).resolve().parents[2] / "README.md"

PUBLIC_NAMES = {
    "DEMO_SEED_PATH",
    "Delay",
    "Drop",
    "EmulatorBackend",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "NotJson",
    "Oversized",
    "RecordedRequest",
    "Redirect",
    "Service",
    "Status",
    "Truncated",
}


def test_all_is_the_one_public_list() -> None:
    assert set(emulator.__all__) == PUBLIC_NAMES
    assert len(emulator.__all__) == len(PUBLIC_NAMES)
    namespace: dict[str, object] = {}
    exec("from pulumi_yc_websocket.emulator import *", namespace)  # noqa: S102
    assert set(namespace) - {"__builtins__"} == PUBLIC_NAMES
    modules = {path.stem for path in PACKAGE_DIR.glob("*.py")} - {"__init__", "__main__"}
    assert all(name.startswith("_") for name in modules), modules


def test_the_emulator_imports_nothing_else_of_the_package() -> None:
    # Standalone: it must be able to disagree with the client and the model it stands in for.
    for path in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, f"{path.name} imports from outside the emulator"
                assert not (node.module or "").startswith("pulumi"), f"{path.name}: {node.module}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("pulumi") for a in node.names), path.name


def test_every_admin_endpoint_is_documented() -> None:
    docstring = inspect.getdoc(emulator) or ""
    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("## Local emulator") :]
    section = section[: section.index("\n## ", 1)]
    for route in ROUTES:
        path = f"{ADMIN_PREFIX}{route.path}"
        assert re.search(rf"{route.method} +{re.escape(path)}(?![\w/])", docstring), path
        assert re.search(rf"{route.method} +{re.escape(path)}(?![\w/])", section), path
    epilog = command_line._admin_epilog()
    assert all(f"{ADMIN_PREFIX}{route.path}" in epilog for route in ROUTES)
