"""Where to send lookups and with which credential, resolved from arguments, config and environment.

Order, first match wins: explicit arguments, then a Pulumi-style config mapping, then the
environment, then the VM metadata service. Two credentials at the same level is an error.

Config keys (``namespace:key``; the ``namespace:config:key`` form is accepted too):

- ``yandex:token``: IAM token (``t1.`` and two dots) or OAuth token.
- ``yandex:serviceAccountKeyFile``: path to an authorized-key JSON file, or the JSON itself.
- ``yandex:endpoint``: API root, e.g. ``api.cloud.yandex.net:443``; service hosts derive from it.
- ``yc-websocket:connectionsEndpoint``, ``yc-websocket:iamEndpoint``: full base URLs.
- ``yc-websocket:metadataAddr``: ``host[:port]`` of the metadata service.

Environment: ``YC_IAM_TOKEN``, ``YC_TOKEN``, ``YC_SERVICE_ACCOUNT_KEY_FILE``, ``YC_ENDPOINT``,
``YC_APIGATEWAY_CONNECTIONS_ENDPOINT``, ``YC_IAM_ENDPOINT``, ``YC_METADATA_ADDR``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

from .errors import (
    ConfigurationError,
    ConflictingCredentialsError,
    InsecureEndpointError,
    redact_secrets,
)

PACKAGE_NAMESPACE = "yc-websocket"
DEFAULT_API_ENDPOINT = "api.cloud.yandex.net:443"
DEFAULT_METADATA_ADDR = "169.254.169.254"
CONNECTIONS_SERVICE_PREFIX = "apigateway-connections"
IAM_SERVICE_PREFIX = "iam"

CONFIG_KEYS = (
    "yandex:token",
    "yandex:serviceAccountKeyFile",
    "yandex:endpoint",
    f"{PACKAGE_NAMESPACE}:connectionsEndpoint",
    f"{PACKAGE_NAMESPACE}:iamEndpoint",
    f"{PACKAGE_NAMESPACE}:metadataAddr",
)
"""The config keys settings read; other keys of a stack's config are ignored."""

CredentialKind = Literal["iam_token", "oauth_token", "service_account_key", "metadata"]

_IAM_TOKEN_SHAPE = re.compile(r"t1\.[^.\s]+\.[^.\s]+")

CREDENTIAL_HELP = (
    "set YC_IAM_TOKEN (e.g. `export YC_IAM_TOKEN=$(yc iam create-token)`), YC_TOKEN (OAuth) or "
    "YC_SERVICE_ACCOUNT_KEY_FILE, or Pulumi config yandex:token / yandex:serviceAccountKeyFile "
    "(`pulumi config set --secret yandex:token ...`), or run on a Yandex Cloud VM with a "
    "service account attached"
)


@dataclass(frozen=True)
class CredentialSource:
    """One configured credential: its kind, where it was found, and its secret (never shown)."""

    kind: CredentialKind
    origin: str
    secret: str = field(default="", repr=False)

    def __str__(self) -> str:
        return f"{self.kind.replace('_', ' ')} from {self.origin}"


@dataclass(frozen=True)
class Settings:
    """Resolved endpoints and credential for the lookup client."""

    connections_endpoint: str
    iam_endpoint: str
    metadata_addr: str
    credential: CredentialSource | None
    """The configured credential; ``None`` when the caller brings its own credentials."""

    @classmethod
    def resolve(
        cls,
        *,
        token: str | None = None,
        service_account_key: str | None = None,
        api_endpoint: str | None = None,
        connections_endpoint: str | None = None,
        iam_endpoint: str | None = None,
        metadata_addr: str | None = None,
        config: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        resolve_credential: bool = True,
    ) -> Settings:
        """Resolve settings; ``environ`` defaults to ``os.environ``, ``config`` to nothing.

        ``resolve_credential=False`` skips the credential (the caller has its own), so
        credentials in the config or environment are neither used nor checked.
        """
        env = os.environ if environ is None else environ
        cfg = _normalize_config(config or {})

        def first(*candidates: str | None) -> str | None:
            return next((c for c in candidates if c), None)

        api_root = first(api_endpoint, cfg.get("yandex:endpoint"), env.get("YC_ENDPOINT"))
        api_root = api_root or DEFAULT_API_ENDPOINT
        connections = first(
            connections_endpoint,
            cfg.get(f"{PACKAGE_NAMESPACE}:connectionsEndpoint"),
            env.get("YC_APIGATEWAY_CONNECTIONS_ENDPOINT"),
        ) or _service_url(CONNECTIONS_SERVICE_PREFIX, api_root)
        iam = first(
            iam_endpoint,
            cfg.get(f"{PACKAGE_NAMESPACE}:iamEndpoint"),
            env.get("YC_IAM_ENDPOINT"),
        ) or _service_url(IAM_SERVICE_PREFIX, api_root)
        metadata = first(
            metadata_addr,
            cfg.get(f"{PACKAGE_NAMESPACE}:metadataAddr"),
            env.get("YC_METADATA_ADDR"),
        )
        return cls(
            connections_endpoint=validate_endpoint(connections, "connections endpoint"),
            iam_endpoint=validate_endpoint(iam, "IAM endpoint"),
            metadata_addr=validate_metadata_addr(metadata or DEFAULT_METADATA_ADDR),
            credential=(
                _resolve_credential(token, service_account_key, cfg, env)
                if resolve_credential
                else None
            ),
        )


def _normalize_config(config: Mapping[str, str]) -> dict[str, str]:
    normalized: dict[str, str] = {}
    for key, value in config.items():
        namespace, sep, name = key.partition(":")
        if name.startswith("config:"):
            name = name.removeprefix("config:")
        if sep and value is not None and str(value) != "":
            normalized[f"{namespace}:{name}"] = str(value)
    return normalized


def _service_url(prefix: str, api_root: str) -> str:
    root = api_root.strip()
    parsed = _parse_url(root if "://" in root else f"https://{root}")
    if parsed is None or not parsed.host:
        raise ConfigurationError(
            f"API endpoint {redacted(api_root)} is not host[:port]; "
            "use e.g. api.cloud.yandex.net:443"
        )
    if parsed.scheme != "https" or not _is_base_url(parsed):
        raise InsecureEndpointError(
            f"API endpoint {redacted(api_root)} must be host[:port] or https://host[:port], "
            "e.g. api.cloud.yandex.net:443"
        )
    suffix = "" if parsed.port in (None, 443) else f":{parsed.port}"
    return f"https://{prefix}.{parsed.host}{suffix}"


_URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
"""What RFC 3986 allows in a URL. Parsers disagree on anything else: urllib.parse reads the host
of ``http://evil.example\\[::1]`` as ``::1`` while urllib3 connects to ``evil.example``."""
_HOST = re.compile(r"[a-z0-9._-]+|\[[0-9a-f:.]+\]")
"""A host as urllib3 normalizes it (lower case): a name or IPv4 address, or an IPv6 literal."""
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")


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
    return repr(shown if len(shown) <= 200 else shown[:199] + "\u2026")


def _odd_character(text: str) -> str | None:
    """The first character of ``text`` that parsers read differently, described; else None."""
    for char in text:
        if char not in _URL_CHARACTERS:
            if char == "\\":
                return "a backslash"
            if char == " ":
                return "a space"
            return f"the character U+{ord(char):04X}"
    return None


def _parse_url(text: str) -> Url | None:
    """``text`` as urllib3, the parser that connects, reads it; None if that is not trustworthy."""
    if _odd_character(text) is not None:
        return None
    try:
        parsed = parse_url(text)
    except LocationParseError:
        return None
    if parsed.host is not None and not _HOST.fullmatch(parsed.host):
        return None
    return parsed


def _is_base_url(parsed: Url) -> bool:
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


def validate_endpoint(url: str, what: str) -> str:
    """Check a base URL a bearer token will be sent to; return it without a trailing slash.

    It is read by urllib3's parser, the one that connects, and refused if it holds a character
    another parser would read differently: what is checked here is what is dialled.
    """
    text = url.strip()
    odd = _odd_character(text)
    if odd is not None:
        raise InsecureEndpointError(
            f"{what} {redacted(text)} holds {odd}, which URL parsers read differently; remove it"
        )
    parsed = _parse_url(text)
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
    if not _is_base_url(parsed):
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
    parsed = _parse_url(f"http://{text}")
    if parsed is None or not parsed.host or not _is_base_url(parsed) or parsed.path:
        raise ConfigurationError(
            f"metadata address {redacted(addr)} must be host[:port], e.g. 169.254.169.254"
        )
    return text


def looks_like_iam_token(token: str) -> bool:
    """IAM tokens start with ``t1.`` and have two dots; anything else is taken as OAuth."""
    return _IAM_TOKEN_SHAPE.fullmatch(token.strip()) is not None


def _found(
    *candidates: tuple[str | None, str, CredentialKind | None],
) -> list[CredentialSource]:
    """Credentials set at one level; a kind of ``None`` means "a token, IAM or OAuth by shape"."""
    found = []
    for value, origin, kind in candidates:
        secret = (value or "").strip()
        if secret:
            if kind is None:
                kind = "iam_token" if looks_like_iam_token(secret) else "oauth_token"
            found.append(CredentialSource(kind, origin, secret))
    return found


def _resolve_credential(
    token: str | None,
    service_account_key: str | None,
    cfg: Mapping[str, str],
    env: Mapping[str, str],
) -> CredentialSource:
    levels = (
        _found(
            (token, "the token argument", None),
            (service_account_key, "the service_account_key argument", "service_account_key"),
        ),
        _found(
            (cfg.get("yandex:token"), "Pulumi config yandex:token", None),
            (
                cfg.get("yandex:serviceAccountKeyFile"),
                "Pulumi config yandex:serviceAccountKeyFile",
                "service_account_key",
            ),
        ),
        _found(
            (env.get("YC_IAM_TOKEN"), "YC_IAM_TOKEN", "iam_token"),
            (env.get("YC_TOKEN"), "YC_TOKEN", None),
            (
                env.get("YC_SERVICE_ACCOUNT_KEY_FILE"),
                "YC_SERVICE_ACCOUNT_KEY_FILE",
                "service_account_key",
            ),
        ),
    )
    for found in levels:
        if len(found) > 1:
            names = " and ".join(source.origin for source in found)
            raise ConflictingCredentialsError(
                f"conflicting credentials: {names} are all set; keep only one of them"
            )
        if found:
            return found[0]
    return CredentialSource("metadata", "the VM metadata service (no other credential is set)")
