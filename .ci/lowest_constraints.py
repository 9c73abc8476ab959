"""The lowest versions the dependency ranges in pyproject.toml allow, as pip constraints.

    python .ci/lowest_constraints.py                    # print them
    python .ci/lowest_constraints.py --check FILE       # FILE must say exactly that
    python .ci/lowest_constraints.py --installed FILE   # this interpreter has FILE's pins

Every runtime and ``dev`` requirement must carry a ``>=`` lower bound; its lowest version is that
bound, pinned with ``==``. Standard library only (runs before anything is installed).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lowest(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """``{distribution name: lowest version}`` for the runtime and ``dev`` requirements."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"cannot read the requirement {requirement!r}")
        name, _extras, specifiers, _marker = match.groups()
        floors = [
            spec.strip()[2:].strip()
            for spec in specifiers.split(",")
            if spec.strip().startswith(">=")
        ]
        if len(floors) != 1:
            raise SystemExit(f"{requirement!r} needs exactly one '>=' lower bound")
        key = _normalize(name)
        if key in pins and pins[key] != floors[0]:
            raise SystemExit(f"{name} has two lower bounds: {pins[key]} and {floors[0]}")
        pins[key] = floors[0]
    return pins


def render(pins: dict[str, str]) -> str:
    lines = [
        "# The lowest versions pyproject.toml allows: CI runs the tests once with them",
        "# (.ci/lowest.sh). Made by `python .ci/lowest_constraints.py > constraints-lowest.txt`;",
        "# CI fails when this file and pyproject.toml disagree.",
        *(f"{name}=={version}" for name, version in sorted(pins.items())),
    ]
    return "\n".join(lines) + "\n"


def _release(version: str) -> str:
    """``3.216.0`` and ``3.216`` are the same version."""
    return re.sub(r"(\.0+)+$", "", version.strip())


def _read_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_normalize(name)] = version.strip()
    return pins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", type=Path, metavar="FILE")
    group.add_argument("--installed", type=Path, metavar="FILE")
    args = parser.parse_args()
    if args.check:
        expected = render(lowest())
        if args.check.read_text(encoding="utf-8") != expected:
            sys.stderr.write(
                f"{args.check} does not match the lower bounds in pyproject.toml; expected:\n"
                f"{expected}(regenerate it: python .ci/lowest_constraints.py > {args.check})\n"
            )
            return 1
        print(f"{args.check} matches the lower bounds in pyproject.toml")
        return 0
    if args.installed:
        from importlib.metadata import PackageNotFoundError, version

        wrong = []
        for name, pinned in sorted(_read_pins(args.installed).items()):
            try:
                found = version(name)
            except PackageNotFoundError:
                found = "not installed"
            if _release(found) != _release(pinned):
                wrong.append(f"{name}: {found}, expected {pinned}")
        if wrong:
            sys.stderr.write("not the lowest versions:\n  " + "\n  ".join(wrong) + "\n")
            return 1
        print(f"installed: the lowest version of each of {len(_read_pins(args.installed))} pins")
        return 0
    sys.stdout.write(render(lowest()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
