#!/usr/bin/env bash
# The whole test suite once more, against the lowest versions pyproject.toml allows
# (constraints-lowest.txt, checked against pyproject.toml first), in a fresh virtualenv of its
# own. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

"$PYTHON" .ci/lowest_constraints.py --check constraints-lowest.txt

work=$(mktemp -d "${TMPDIR:-/tmp}/ycws-lowest.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
py="$work/venv/bin/python"
pip() {  # quiet; without pip's notes on configured index folders it cannot read
    local status=0
    "$py" -m pip "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; } || status=$?
    return "$status"
}
pip install --quiet --upgrade pip
pip install --quiet -c constraints-lowest.txt -e '.[dev]'
"$py" .ci/lowest_constraints.py --installed constraints-lowest.txt
pip check

"$py" -m pytest -p no:cacheprovider -q
