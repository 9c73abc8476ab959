"""The README's examples, type-checked with ``mypy --strict`` and run as a user would run them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)\n```", README, re.S)


def code_after(title: str) -> str:
    """The first ``python`` code block after the line ``title``."""
    found = re.search(re.escape(title) + r"\n\n```python\n(.*?)\n```", README, re.S)
    assert found is not None, f"README: no python block after {title!r}"
    return found.group(1)


def test_every_python_example_type_checks(tmp_path: Path) -> None:
    assert len(PYTHON_BLOCKS) >= 3
    for number, code in enumerate(PYTHON_BLOCKS):
        folder = tmp_path / f"example{number}"
        folder.mkdir()
        (folder / "example.py").write_text(code + "\n", "utf-8")
        # Each alone, as a user checks one file of theirs; pulumi.runtime.test is untyped upstream.
        result = subprocess.run(
            [
                sys.executable,
                *("-m", "mypy", "--strict", "--allow-untyped-decorators", "--no-incremental"),
                "example.py",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"README example {number}:\n{code}\n{result.stdout}"


def test_the_testing_example_passes(tmp_path: Path) -> None:
    (tmp_path / "test_my_stack.py").write_text(code_after("`test_my_stack.py`:"), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_stack.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_client_example_runs(tmp_path: Path, emulator: Any) -> None:
    code = code_after("## The client and the CLI (no Pulumi needed)")
    emulator.add_connection(id="EfKvQ47JSz6mjzNl3h9qBrAM", gateway_id="d5dm1lba80md4pmj2qke")
    (tmp_path / "client_example.py").write_text(code, "utf-8")
    result = subprocess.run(
        [sys.executable, "client_example.py"],
        cwd=tmp_path,
        env={**emulator.env, "YC_IAM_TOKEN": emulator.token, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("d5dm1lba80md4pmj2qke ")
