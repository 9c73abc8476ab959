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

from ._errors import ConfigurationError, InsecureEndpointError, redact_secrets

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
    shown = redact_secrets(text.strip())
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


def validate_endpoint(url: str, what: str) -> str:
    """Check a base URL a bearer token will be sent to; return it without a trailing slash."""
    text = url.strip()
    odd = odd_character(text)
    if odd is not None:
        raise InsecureEndpointError(
            f"{what} {redacted(text)} holds {odd}, which URL parsers read differently; remove it"
        )
    parsed = parse(text)
    if parsed is None:
        raise InsecureEndpointError(
            f"{what} {redacted(text)} is not a valid URL; use e.g. https://host.example"
        )
    host = parsed.host or ""
    # With an "@" anywhere, what a parser calls the host may be part of a password.
    shown = f"{parsed.scheme}://{host}" if parsed.scheme and host and "@" not in text else None
    shown = shown or redacted(text)
    if parsed.scheme not in ("https", "http") or not host:
        example = host if parsed.scheme and host else "host.example"
        raise InsecureEndpointError(
            f"{what} {shown} must be an https:// URL, e.g. https://{example}"
        )
    if parsed.auth is not None:
        raise InsecureEndpointError(
            f"{what} {shown} has credentials in the URL; remove them and configure a token instead"
        )
    if not is_base_url(parsed):
        raise InsecureEndpointError(
            f"{what} {shown} must be a base URL without a path, query or fragment"
        )
    if parsed.scheme == "http" and not is_loopback_host(host):
        raise InsecureEndpointError(
            f"{what} {shown} uses plain http: a bearer token is only sent over https, "
            "or over http to a loopback address such as a local emulator"
        )
    return f"{parsed.scheme}://{parsed.netloc}"


def validate_metadata_addr(addr: str) -> str:
    """Check ``host[:port]`` of the metadata service (reached over plain http by design)."""
    text = addr.strip().removeprefix("http://").rstrip("/")
    parsed = parse(f"http://{text}")
    if parsed is None or not parsed.host or not is_base_url(parsed) or parsed.path:
        raise ConfigurationError(
            f"metadata address {redacted(addr)} must be host[:port], e.g. 169.254.169.254"
        )
    return text


def service_url(prefix: str, api_root: str) -> str:
    """The base URL of the service ``prefix`` under an API root (``host[:port]``)."""
    root = api_root.strip()
    parsed = parse(root if "://" in root else f"https://{root}")
    if parsed is None or not parsed.host:
        raise ConfigurationError(
            f"API endpoint {redacted(api_root)} is not host[:port]; "
            "use e.g. api.cloud.yandex.net:443"
        )
    if parsed.scheme != "https" or not is_base_url(parsed):
        raise InsecureEndpointError(
            f"API endpoint {redacted(api_root)} must be host[:port] or https://host[:port], "
            "e.g. api.cloud.yandex.net:443"
        )
    suffix = "" if parsed.port in (None, 443) else f":{parsed.port}"
    return f"https://{prefix}.{parsed.host}{suffix}"
