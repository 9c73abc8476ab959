"""The README is the package's description on PyPI: it must read right where no repository is
around (no relative links; repository paths and `make` targets said to be the repository's)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def test_the_readme_is_the_long_description() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["readme"] == "README.md"


def test_no_link_or_image_points_into_the_repository() -> None:
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)", README)
    targets += re.findall(r"""(?:href|src)=["']([^"']+)""", README)
    targets += re.findall(r"^\[[^\]]+\]:\s*(\S+)", README, re.M)  # reference definitions
    relative = [t for t in targets if not re.match(r"(https?://|mailto:|#)", t)]
    assert relative == []


def test_make_targets_and_repository_paths_are_said_to_be_the_repositorys() -> None:
    first_make = README.index("make demo")
    setup = README[README.rindex("\n## ", 0, first_make) : README.index("\n## ", first_make + 1)]
    flat = " ".join(setup.split())
    assert "In a clone of the source repository" in flat
    assert "and every `make` target, are those of the source repository" in flat
