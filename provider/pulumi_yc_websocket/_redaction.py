"""Text made safe to show: credentials masked, control characters escaped, length capped.

Every credential the process holds or sends is noted in :data:`SECRETS`; :func:`shown_text`
masks each of them however a server or a user writes it back: as sent, in another case, or
percent-encoded. A credential that a live object holds (a configured token, a key) stays as
long as that object lives, however many others come after it; short-lived ones (exchanged
tokens, signed JWTs) are kept newest first, up to a bound, so memory stays bounded.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MIN_SECRET_CHARS = 8
"""Shorter values are not masked: they would mask ordinary words."""
RECENT_SECRETS = 256
"""How many short-lived secrets are kept for masking."""
REDACTED = "***"


def _forms(secret: str) -> set[str]:
    """The ways a secret may come back in text (case is ignored when matching)."""
    return {secret, quote(secret, safe=""), quote_plus(secret, safe="")}


def _pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    forms = sorted({form for secret in secrets for form in _forms(secret)}, key=len, reverse=True)
    if not forms:
        return None
    return re.compile("|".join(re.escape(form) for form in forms), re.IGNORECASE)


def holds_any(text: str, secrets: Iterable[str]) -> bool:
    """Whether ``text`` holds one of ``secrets`` in any of the forms :func:`shown_text` masks."""
    pattern = _pattern(s for s in secrets if len(s) >= MIN_SECRET_CHARS)
    return pattern is not None and pattern.search(text) is not None


class SecretRegistry:
    """The secrets to mask: held ones while their holder lives, recent ones up to a bound."""

    def __init__(self, recent_limit: int = RECENT_SECRETS) -> None:
        self._held: weakref.WeakKeyDictionary[object, set[str]] = weakref.WeakKeyDictionary()
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._recent_limit = recent_limit
        self._lock = threading.Lock()
        self._compiled: tuple[frozenset[str], re.Pattern[str] | None] = (frozenset(), None)

    def hold(self, secret: str, holder: object, *, shortest: int = MIN_SECRET_CHARS) -> None:
        """Mask ``secret`` for as long as ``holder`` lives (if at least ``shortest`` long)."""
        if secret and len(secret) >= shortest:
            with self._lock:
                self._held.setdefault(holder, set()).add(secret)

    def note(self, secret: str) -> None:
        """Mask a short-lived ``secret`` (the oldest of these are forgotten first)."""
        if len(secret) < MIN_SECRET_CHARS:
            return
        with self._lock:
            self._recent[secret] = None
            self._recent.move_to_end(secret)
            while len(self._recent) > self._recent_limit:
                self._recent.popitem(last=False)

    def redact(self, text: str) -> str:
        """``text`` with every secret, in any form, replaced by ``***``."""
        pattern = self._current_pattern()
        return text if pattern is None else pattern.sub(REDACTED, text)

    def clear(self) -> None:
        """Forget every secret (a new process state)."""
        with self._lock:
            self._held.clear()
            self._recent.clear()

    def _current_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            secrets = frozenset(self._recent).union(*self._held.values())
            if secrets != self._compiled[0]:
                self._compiled = (secrets, _pattern(secrets))
            return self._compiled[1]


SECRETS = SecretRegistry()
"""The process's secrets."""


def shown_text(text: str, limit: int) -> str:
    """``text`` made safe to show: one line, escaped, capped, no credentials.

    Line breaks and other spacing become single spaces; any other character a terminal could act
    on (ESC, BEL, C1 controls, bidi overrides...) is shown as an escape such as ``\\x1b``.
    """
    text = SECRETS.redact(text)
    if not text.isprintable():
        text = "".join(_escaped(char) for char in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _escaped(char: str) -> str:
    if char.isprintable():
        return char
    if char.isspace() or unicodedata.category(char) in ("Zl", "Zp"):
        return " "
    return repr(char)[1:-1]  # a non-printable character's repr is its escape, e.g. \x1b
