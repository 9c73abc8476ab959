"""Credentials that produce IAM tokens.

An IAM token is used as is. An OAuth token or a service-account key is exchanged at the IAM
endpoint, and the VM metadata service hands out tokens; those tokens are kept in a
:class:`~._token_cache.TokenCache` (the process-wide one for clients built from settings).
"""

from __future__ import annotations

import errno
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from ._errors import (
    ApiError,
    CredentialsNotFoundError,
    DeadlineExceededError,
    InvalidCredentialsError,
    InvalidResponseError,
    ServiceUnavailableError,
)
from ._redaction import SECRETS
from ._retry import Deadline
from ._service import Service
from ._settings import (
    CONFIGURE_CREDENTIAL_HELP,
    CREDENTIAL_HELP,
    IAM_TOKENS_PATH,
    Settings,
    looks_like_iam_token,
)
from ._timestamps import parse_timestamp
from ._token_cache import TokenCache
from ._urls import validate_metadata_addr

IAM_TOKEN_AUDIENCE = "https://iam.api.cloud.yandex.net/iam/v1/tokens"  # noqa: S105
METADATA_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"  # noqa: S105
JWT_LIFETIME_SECONDS = 3600
_KEY_BANNER = "PLEASE DO NOT REMOVE THIS LINE!"
IAM = Service("iam")
METADATA = Service(
    "metadata",
    headers={"Metadata-Flavor": "Google"},
    # A link-local service answers at once or not at all: off a VM, fail fast.
    connect_timeout=1.0,
    max_attempts=2,
)
_MAX_KEY_FILE_BYTES = 64 * 1024


class Exchange(Protocol):
    """Sends one request for a credential and returns the 2xx body, or raises a typed error."""

    def __call__(
        self, method: str, url: str, *, service: Service, json_body: object | None = None
    ) -> bytes: ...


class Credentials(Protocol):
    """Something that yields an IAM token for a lookup."""

    description: str
    """Where the credential came from, for error messages (never the secret)."""
    refreshable: bool
    """True when a rejected token can be replaced by a fresh exchange."""

    def token(self, exchange: Exchange, deadline: Deadline) -> str:
        """A valid IAM token."""
        ...

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after the service rejected it."""
        ...


class IamToken:
    """An IAM token sent as is; it cannot be renewed here."""

    refreshable = False

    def __init__(self, token: str, origin: str = "an IAM token") -> None:
        self._token = token.strip()
        SECRETS.hold(self._token, self)
        self.description = f"the IAM token from {origin}"
        self.rejection_hint = (
            ""
            if looks_like_iam_token(self._token)
            else "it does not look like an IAM token (t1. and two dots): if it is an OAuth "
            "token, set it as YC_TOKEN (or Pulumi config yandex:token) instead, which exchanges "
            "it for IAM tokens"
        )
        """What to add when the service rejects the token (see :class:`~._errors.Failure`)."""

    def token(self, exchange: Exchange, deadline: Deadline) -> str:
        """The token itself."""
        return self._token

    def invalidate(self, token: str) -> None:
        """Nothing to forget: a static token cannot be renewed."""

    def __repr__(self) -> str:
        return f"IamToken(<{self.description}>)"


class _ExchangedCredentials:
    """Shared caching for credentials whose tokens come from an exchange."""

    refreshable = True
    description: str

    def __init__(self, secret_material: str, endpoint: str, cache: TokenCache | None) -> None:
        digest = hashlib.sha256(f"{endpoint}\0{secret_material}".encode()).hexdigest()
        self._cache_key = f"{type(self).__name__}:{digest}"
        self._cache = cache if cache is not None else TokenCache()

    def token(self, exchange: Exchange, deadline: Deadline) -> str:
        """A cached token, or a fresh one from a single exchange."""
        return self._cache.get(self._cache_key, deadline, lambda: self._fetch(exchange))

    def invalidate(self, token: str) -> None:
        """Forget ``token`` so the next call exchanges again."""
        self._cache.invalidate(self._cache_key, token)

    def _fetch(self, exchange: Exchange) -> tuple[str, float]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{self.description}>)"


class _IamTokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    iamToken: str
    expiresAt: str


def _iam_token_from(body: bytes) -> tuple[str, float]:
    # Errors are raised outside the except blocks: pydantic's error holds the token it read.
    try:
        answer: _IamTokenResponse | None = _IamTokenResponse.model_validate_json(body)
    except ValidationError:
        answer = None
    expires = _timestamp_or_none(answer.expiresAt) if answer is not None else None
    if answer is None or expires is None:
        raise InvalidResponseError(
            "the IAM endpoint answered without a usable iamToken/expiresAt",
            service="iam",
            hint="check yc-websocket:iamEndpoint / YC_IAM_ENDPOINT",
        )
    if not answer.iamToken:
        raise InvalidResponseError("the IAM endpoint answered with an empty token", service="iam")
    SECRETS.note(answer.iamToken)
    return answer.iamToken, max(1.0, expires - time.time())


def _timestamp_or_none(text: str) -> float | None:
    try:
        return parse_timestamp(text).datetime.timestamp()
    except ValueError:
        return None


class OAuthToken(_ExchangedCredentials):
    """A Yandex Passport OAuth token, exchanged for IAM tokens."""

    def __init__(
        self,
        oauth_token: str,
        iam_endpoint: str,
        origin: str = "an OAuth token",
        cache: TokenCache | None = None,
    ) -> None:
        self._oauth_token = oauth_token.strip()
        SECRETS.hold(self._oauth_token, self)
        self._url = iam_endpoint.rstrip("/") + IAM_TOKENS_PATH
        self.description = f"the OAuth token from {origin}"
        super().__init__(self._oauth_token, self._url, cache)

    def _fetch(self, exchange: Exchange) -> tuple[str, float]:
        body = exchange(
            "POST",
            self._url,
            service=IAM,
            json_body={"yandexPassportOauthToken": self._oauth_token},
        )
        return _iam_token_from(body)


@dataclass(frozen=True, repr=False)
class _AuthorizedKey:
    key_id: str
    service_account_id: str
    private_key: str
    source: str
    """Where the key came from, for messages: the file and the setting naming it, or the setting."""


def _read_key_file(path: str) -> tuple[bytes | None, str]:
    """Up to one byte past the size limit of the file; else None and the OS's reason, which is
    empty when no file has that name (the name may not even be a path)."""
    try:
        with Path(path).expanduser().open("rb") as key_file:
            return key_file.read(_MAX_KEY_FILE_BYTES + 1), ""
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the name
        return None, ""
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return None, ""
        return None, exc.strerror or type(exc).__name__


_NOT_JSON = object()
_CREATE_KEY = "`yc iam key create --service-account-name NAME -o key.json`"


def _json_or_not(text: str) -> Any:
    """The JSON value in ``text``, or ``_NOT_JSON``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return _NOT_JSON


def load_authorized_key(path_or_json: str, origin: str) -> _AuthorizedKey:
    """Read a service-account authorized key from a file path or from the JSON text itself.

    Text that starts with ``{`` is the JSON; anything else is a path.
    """
    # Errors are raised outside the except blocks: an OSError keeps the file name (which may be
    # a token put in the wrong variable) and a JSONDecodeError the whole text, private key and all.
    # A path is shown only once the file exists: a value that names no file may be a secret.
    text = path_or_json.strip()
    source = f"the service-account key JSON from {origin}"
    if not text.startswith("{"):
        raw, reason = _read_key_file(text)
        if raw is None and not reason:
            raise InvalidCredentialsError(
                f"{origin} is neither valid JSON of an authorized key nor an existing file; "
                f"give the path of the key file or its JSON (create one with {_CREATE_KEY})"
            )
        if raw is None:
            raise InvalidCredentialsError(
                f"cannot read the service-account key file named by {origin}: {reason}; "
                "give a readable path or the key's JSON"
            )
        source = f"the service-account key file {text!r} named by {origin}"
        if len(raw) > _MAX_KEY_FILE_BYTES:
            raise InvalidCredentialsError(
                f"{source} is larger than {_MAX_KEY_FILE_BYTES} bytes; an authorized key is "
                "about 3 KB"
            )
        text = raw.decode("utf-8", errors="replace")
    data = _json_or_not(text)
    if data is _NOT_JSON:
        raise InvalidCredentialsError(
            f"{source} is not valid JSON; create a key with {_CREATE_KEY}"
        )
    missing = [
        name
        for name in ("id", "service_account_id", "private_key")
        if not isinstance(data, dict) or not isinstance(data.get(name), str) or not data[name]
    ]
    if missing:
        raise InvalidCredentialsError(
            f"{source} lacks {', '.join(missing)}; use the JSON that `yc iam key create` writes"
        )
    private_key = data["private_key"]
    if private_key.startswith(_KEY_BANNER):
        private_key = private_key.split("\n", 1)[1] if "\n" in private_key else ""
    return _AuthorizedKey(data["id"], data["service_account_id"], private_key, source)


def _key_kind(key: object) -> str:
    """What kind of private key ``key`` is, for a message ("an EC (secp256r1) key")."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519

    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"an EC ({key.curve.name}) key"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "an Ed25519 key"
    if isinstance(key, ed448.Ed448PrivateKey):
        return "an Ed448 key"
    if isinstance(key, dsa.DSAPrivateKey):
        return "a DSA key"
    return f"a {type(key).__name__.removeprefix('_')}"


class ServiceAccountKey(_ExchangedCredentials):
    """A service-account authorized key: a PS256 JWT exchanged for IAM tokens."""

    def __init__(
        self,
        key: str,
        iam_endpoint: str,
        origin: str = "a service-account key",
        cache: TokenCache | None = None,
    ) -> None:
        self._authorized_key = load_authorized_key(key, origin)
        for line in self._authorized_key.private_key.splitlines():
            if not line.startswith("-----"):  # each line of the key's body is key material
                SECRETS.hold(line.strip(), self)
        self._url = iam_endpoint.rstrip("/") + IAM_TOKENS_PATH
        self.description = (
            f"the key {self._authorized_key.key_id} of service account "
            f"{self._authorized_key.service_account_id} from {origin}"
        )
        super().__init__(self._authorized_key.private_key, self._url, cache)
        self._signing_key = self._load_signing_key(origin)

    def _load_signing_key(self, origin: str) -> object:
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        source = self._authorized_key.source
        pem = self._authorized_key.private_key.encode()
        encrypted = b"ENCRYPTED" in pem
        key: object = None
        if not encrypted:
            try:
                key = load_pem_private_key(pem, password=None)
            except TypeError:  # "Password was not given but private key is encrypted"
                encrypted = True
            except ValueError:
                key = None
        if encrypted:
            raise InvalidCredentialsError(
                f"the private_key in {source} is encrypted (password-protected); use the "
                f"unencrypted RSA key that {_CREATE_KEY} writes"
            )
        if key is None:
            raise InvalidCredentialsError(
                f"the private_key in {source} is not a PEM private key; use the JSON that "
                f"{_CREATE_KEY} writes"
            )
        if not isinstance(key, RSAPrivateKey):
            raise InvalidCredentialsError(
                f"the private_key in {source} is {_key_kind(key)}, not RSA: IAM takes JWTs "
                f"signed with PS256, an RSA signature; {_CREATE_KEY} makes an RSA key"
            )
        return key

    def jwt(self) -> str:
        """A signed JWT for the IAM token exchange, valid for one hour."""
        import jwt

        now = int(time.time())
        signed = jwt.encode(
            {
                "iss": self._authorized_key.service_account_id,
                "aud": IAM_TOKEN_AUDIENCE,
                "iat": now,
                "exp": now + JWT_LIFETIME_SECONDS,
            },
            self._signing_key,  # type: ignore[arg-type]
            algorithm="PS256",
            headers={"kid": self._authorized_key.key_id},
        )
        SECRETS.note(signed)
        return signed

    def _fetch(self, exchange: Exchange) -> tuple[str, float]:
        body = exchange("POST", self._url, service=IAM, json_body={"jwt": self.jwt()})
        return _iam_token_from(body)


class _MetadataTokenResponse(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    access_token: str
    expires_in: int


class MetadataCredentials(_ExchangedCredentials):
    """Tokens of the service account attached to the VM, from its metadata service."""

    def __init__(self, metadata_addr: str, cache: TokenCache | None = None) -> None:
        self._url = f"http://{validate_metadata_addr(metadata_addr)}{METADATA_TOKEN_PATH}"
        self.description = "the VM's service account (metadata service)"
        super().__init__("", self._url, cache)

    def _fetch(self, exchange: Exchange) -> tuple[str, float]:
        # Errors are raised outside the except blocks, so none chains another (or its text).
        try:
            body: bytes | None = exchange("GET", self._url, service=METADATA)
        except ApiError as exc:
            failure: ApiError | None = exc
            body = None
        else:
            failure = None
        if failure is not None:
            unanswered = isinstance(failure, ServiceUnavailableError | DeadlineExceededError)
            if unanswered and failure.http_status is None:
                raise CredentialsNotFoundError(
                    f"no credential is configured and no VM metadata service answered; "
                    f"{CREDENTIAL_HELP}"
                )
            if failure.http_status == 404:
                raise CredentialsNotFoundError(
                    "this VM has no service account attached: attach one to the VM "
                    f"(`yc compute instance update --service-account-name`), or "
                    f"{CONFIGURE_CREDENTIAL_HELP}"
                )
            raise failure
        try:
            answer: _MetadataTokenResponse | None = _MetadataTokenResponse.model_validate_json(
                body or b""
            )
        except ValidationError:
            answer = None
        if answer is None:
            raise InvalidResponseError(
                "the metadata service answered without access_token/expires_in",
                service="metadata",
            )
        SECRETS.note(answer.access_token)
        return answer.access_token, float(max(1, answer.expires_in))


def credentials_for(settings: Settings, cache: TokenCache | None = None) -> Credentials:
    """The credentials the resolved settings describe; exchanged tokens kept in ``cache``."""
    source = settings.credential
    if source is None:
        raise CredentialsNotFoundError("no credential was resolved; pass credentials explicitly")
    if source.kind == "iam_token":
        return IamToken(source.secret, source.origin)
    if source.kind == "oauth_token":
        return OAuthToken(source.secret, settings.iam_endpoint, source.origin, cache)
    if source.kind == "service_account_key":
        return ServiceAccountKey(source.secret, settings.iam_endpoint, source.origin, cache)
    return MetadataCredentials(settings.metadata_addr, cache)
