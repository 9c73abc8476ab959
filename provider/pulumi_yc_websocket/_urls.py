"""Endpoint URLs: read by the parser that connects (urllib3's), checked, and shown redacted.

A bearer token goes to these URLs, so what is checked here must be what is dialled: any
character parsers read differently is refused, and only https (or http to loopback) passes.
"""

from __future__ import annotations

import ipaddress
import re
import string

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

from ._errors import ConfigurationError, InsecureEndpointError
from ._redaction import SECRETS

_URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
"""What RFC 3986 allows in a URL. Parsers disagree on anything else: urllib.parse reads the host
of ``http://evil.example\\[::1]`` as ``::1`` while urllib3 connects to ``evil.example``."""
_HOST = re.compile(r"[a-z0-9._-]+|\[[0-9a-f:.]+\]")
"""A host as urllib3 normalizes it (lower case): a name or IPv4 address, or an IPv6 literal."""
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")
_SHOWN_CHARS = 200


def redacted(text: str) -> str:
    """``text`` for an error message: userinfo up to the last ``@`` masked, capped, quoted.

    Up to the *last* ``@``: a password may hold ``/``, ``?``, ``#`` or ``@``, and no parser
    agrees where such a userinfo ends. Known credentials are masked wherever they appear.
    """
    shown = SECRETS.redact(text.strip())
    if "@" in shown:
        scheme = _SCHEME.match(shown)
        start = scheme.end() if scheme else 0
        shown = shown[:start] + "***" + shown[shown.rindex("@") :]
    if len(shown) > _SHOWN_CHARS:
        shown = shown[: _SHOWN_CHARS - 1] + "\u2026"
    return repr(shown)


def odd_character(text: str) -> str | None:
    """The first character of ``text`` that parsers read differently, described; else None."""
    for char in text:
        if char not in _URL_CHARACTERS:
            if char == "\\":
                return "a backslash"
            if char == " ":
                return "a space"
            return f"the character U+{ord(char):04X}"
    return None


def parse(text: str) -> Url | None:
    """``text`` as urllib3, the parser that connects, reads it; None if that is not trustworthy."""
    if odd_character(text) is not None:
        return None
    try:
        parsed = parse_url(text)
    except LocationParseError:
        return None
    if parsed.host is not None and not _HOST.fullmatch(parsed.host):
        return None
    return parsed


def is_base_url(parsed: Url) -> bool:
    """No userinfo, no path beyond ``/``, no query or fragment (not even empty ones)."""
    return (
        parsed.auth is None
        and parsed.path in (None, "", "/")
        and parsed.query is None
        and parsed.fragment is None
    )


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL this module validated."""
    parsed = parse_url(url)
    return f"{parsed.scheme}://{parsed.netloc}"


BASE_URL_SHAPE = "https://HOST[:PORT]"
"""What an endpoint setting holds: a base URL (plain http only to a loopback address)."""


def _setting(what: str, text: str, origin: str) -> str:
    """The setting and its value for a message, e.g. ``IAM endpoint 'https://x/y' from YC_...``."""
    return f"{what} {redacted(text)}" + (f" from {origin}" if origin else "")


def _refuse_unsafe(text: str, shown: str) -> None:
    """What no URL a token goes to may hold, whatever its shape: characters parsers read
    differently, and credentials (any ``@``: a base URL has no other place for one)."""
    odd = odd_character(text)
    if odd is not None:
        raise InsecureEndpointError(
            f"{shown} holds {odd}, which URL parsers read differently; remove it"
        )
    if "@" in text:
        raise InsecureEndpointError(
            f"{shown} has credentials in the URL; remove them and configure a token instead"
        )


def _parsed(text: str, shown: str, expected: str) -> Url:
    try:
        parsed = parse_url(text)
    except LocationParseError:
        parsed = None
    if parsed is None:
        raise ConfigurationError(
            f"{shown} is not a valid URL (a port is 1-65535); expected {expected}"
        )
    if parsed.host is not None and not _HOST.fullmatch(parsed.host):
        raise InsecureEndpointError(
            f"{shown} has a host that URL parsers read differently; use a host name or an "
            "IP address"
        )
    return parsed


def _extra_parts(parsed: Url) -> list[str]:
    return [
        part
        for part, present in (
            ("a path", parsed.path not in (None, "", "/")),
            ("a query", parsed.query is not None),
            ("a fragment", parsed.fragment is not None),
        )
        if present
    ]


def validate_endpoint(url: str, what: str, *, origin: str = "", allowed_path: str = "") -> str:
    """Check a base URL a bearer token will be sent to; return ``scheme://host[:port]``.

    A shape problem (not a URL, another scheme, a path, a query or a fragment, even an empty
    one) raises :class:`ConfigurationError`; what would put the token at risk (credentials in
    the URL, plain http to a host that is not loopback, characters or hosts that URL parsers
    read differently) raises :class:`InsecureEndpointError`. Messages show the value as given,
    credentials masked, and ``origin``, the setting it came from. ``allowed_path`` is a path
    accepted and dropped (the IAM endpoint takes the token URL users copy from the docs).
    """
    text = url.strip()
    shown = _setting(what, text, origin)
    _refuse_unsafe(text, shown)
    parsed = _parsed(text, shown, BASE_URL_SHAPE)
    host = parsed.host or ""
    if parsed.scheme not in ("https", "http") or not host:
        scheme = "http" if is_loopback_host(host) else "https"
        use = f"'{scheme}://{parsed.netloc}'" if host else f"e.g. {BASE_URL_SHAPE}"
        raise ConfigurationError(
            f"{shown} must start with https:// (http:// only for a loopback address); use {use}"
        )
    if parsed.scheme == "http" and not is_loopback_host(host):
        raise InsecureEndpointError(
            f"{shown} uses plain http: a bearer token is only sent over https, "
            "or over http to a loopback address such as a local emulator"
        )
    base = f"{parsed.scheme}://{parsed.netloc}"
    extra = _extra_parts(parsed)
    if extra and not (
        allowed_path
        and extra == ["a path"]
        and (parsed.path or "").rstrip("/") == allowed_path.rstrip("/")
    ):
        accepted = f" (or the token URL {base}{allowed_path})" if allowed_path else ""
        raise ConfigurationError(
            f"{shown} has {' and '.join(extra)}; give the base URL only, '{base}'{accepted}"
        )
    return base


def validate_metadata_addr(addr: str, *, origin: str = "") -> str:
    """Check ``host[:port]`` of the metadata service (reached over plain http by design)."""
    text = addr.strip().removeprefix("http://").rstrip("/")
    parsed = parse(f"http://{text}")
    if parsed is None or not parsed.host or not is_base_url(parsed) or parsed.path:
        raise ConfigurationError(
            f"{_setting('metadata address', addr, origin)} must be host[:port], "
            "e.g. 169.254.169.254"
        )
    return text


API_ROOT_SHAPE = "host[:port] or https://host[:port], e.g. api.cloud.yandex.net:443"


def service_url(prefix: str, api_root: str, *, origin: str = "") -> str:
    """The base URL of the service ``prefix`` under an API root (``host[:port]``)."""
    root = api_root.strip()
    shown = _setting("API endpoint", root, origin)
    _refuse_unsafe(root, shown)
    try:
        parsed: Url | None = parse_url(root if "://" in root else f"https://{root}")
    except LocationParseError:
        parsed = None
    if parsed is None or not parsed.host:
        raise ConfigurationError(f"{shown} is not host[:port]; use {API_ROOT_SHAPE}")
    if not _HOST.fullmatch(parsed.host):
        raise InsecureEndpointError(
            f"{shown} has a host that URL parsers read differently; use a host name or an "
            "IP address"
        )
    if parsed.scheme != "https" or _extra_parts(parsed):
        raise ConfigurationError(
            f"{shown} must be {API_ROOT_SHAPE} (the services under it are reached over https; "
            "for a local emulator set the connections and IAM endpoints instead)"
        )
    suffix = "" if parsed.port in (None, 443) else f":{parsed.port}"
    return f"https://{prefix}.{parsed.host}{suffix}"
