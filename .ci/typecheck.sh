#!/usr/bin/env bash
# mypy --strict on the example stacks, the demo, and a typed user program
# (tests/typing/user_stack.py), as users type-check their own stacks. Needs .venv (make test).
# Every stack is a `__main__` module, so each is checked on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
mypy=(.venv/bin/mypy --strict)
for stack in examples/connection-info examples/monitoring examples/routing; do
    "${mypy[@]}" "$stack/__main__.py"
done
"${mypy[@]}" examples/demo.py
"${mypy[@]}" tests/typing/user_stack.py
