"""Root pytest configuration.

Import hypothesis before any test runs: on CPython 3.11.7, pytest's assertion rewriting of a
module first imported late in a session (hypothesis's terminal-summary hook) can crash with
"SystemError: AST constructor recursion depth mismatch", a CPython bug fixed in 3.11.8.
"""

import hypothesis  # noqa: F401
