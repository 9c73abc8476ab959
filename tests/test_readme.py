"""The README's examples, run as a user would run them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def code_after(title: str) -> str:
    """The first ``python`` code block after the line ``title``."""
    found = re.search(re.escape(title) + r"\n\n```python\n(.*?)\n```", README, re.S)
    assert found is not None, f"README: no python block after {title!r}"
    return found.group(1)


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
