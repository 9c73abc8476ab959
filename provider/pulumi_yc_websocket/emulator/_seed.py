"""The emulator's input language: seed files, connections given to it, and their timestamps.

One set of pydantic models validates a seed file, the Python API's ``add_connection`` and the
admin interface's request bodies, strictly (``"false"`` is no boolean, ``"5"`` no number), and
every problem is reported on one line as ``source:key: problem``. Standalone on purpose: the
emulator imports nothing of the package's client or model (it must be able to disagree with them).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeAlias, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.functional_validators import AfterValidator, PlainValidator
from pydantic_core import PydanticCustomError

DEMO_SEED_PATH = Path(__file__).with_name("demo_seed.json")

# Relative times and clock moves reach this far: far enough for any test, near enough that every
# resulting time stays inside the API's range (years 0001-9999).
MAX_RELATIVE_SECONDS = 100 * 365.25 * 86400
_RELATIVE_UNITS = {
    "secondsAgo": -1.0,
    "minutesAgo": -60.0,
    "hoursAgo": -3600.0,
    "daysAgo": -86400.0,
    "secondsFromNow": 1.0,
    "minutesFromNow": 60.0,
    "hoursFromNow": 3600.0,
    "daysFromNow": 86400.0,
}
_COMMENT_PREFIXES = ("_", "$")
# What the emulator takes is served back as JSON, by code that recurses: deeper input is refused.
MAX_JSON_DEPTH = 64
MAX_SEED_FILE_BYTES = 16 << 20
# Python strings can hold a lone surrogate (JSON's "\ud800"); UTF-8 cannot, so it cannot be served.
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^][{}]+")
_M = TypeVar("_M", bound=BaseModel)


class SeedError(ValueError):
    """A seed, connection or admin request the emulator cannot take; the message is one line."""


@dataclass(frozen=True, slots=True)
class RelativeTime:
    """A time given as an offset from "now" on the emulator's clock (negative: in the past)."""

    seconds: float


TimeValue: TypeAlias = str | RelativeTime
"""A timestamp as given: a string served verbatim ("" = unset), or a time relative to now."""


def format_timestamp(ns: int) -> str:
    """RFC 3339 UTC string with 9 fractional digits for epoch nanoseconds."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{fraction:09d}Z"


def _datetime_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise PydanticCustomError(
            "naive_datetime", "naive datetime: give a timezone-aware datetime"
        )
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond * 1000:09d}Z"


def _relative(value: Mapping[Any, Any]) -> RelativeTime:
    units = ", ".join(_RELATIVE_UNITS)
    if not value:
        raise PydanticCustomError(
            "relative_time", "empty relative time: use one of {units}", {"units": units}
        )
    total = 0.0
    for key, amount in value.items():
        if key not in _RELATIVE_UNITS:
            raise PydanticCustomError(
                "relative_time", "unknown unit; use one of {units}", {"units": units, "key": key}
            )
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise PydanticCustomError(
                "relative_time",
                "expected a number, got {got}",
                {"got": _shown(amount), "key": key},
            )
        total += float(amount) * _RELATIVE_UNITS[key]
    if not math.isfinite(total) or abs(total) > MAX_RELATIVE_SECONDS:
        raise PydanticCustomError(
            "relative_time",
            "{got} is out of range: relative times reach at most 100 years either way",
            {"got": _shown(dict(value))},
        )
    return RelativeTime(total)


def parse_time(value: object) -> TimeValue | None:
    """A timestamp as given: string (verbatim), relative object, aware datetime, or None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, RelativeTime):
        return value
    if isinstance(value, Mapping):
        return _relative(value)
    raise PydanticCustomError(
        "time",
        "expected an RFC 3339 string or a relative time such as {example}, got {got}",
        {"example": '{"minutesAgo": 5}', "got": _shown(value)},
    )


def _parse_expiry(value: object) -> float | TimeValue | None:
    # Token expiry also takes epoch seconds (a JSON number).
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise PydanticCustomError("finite_number", "expected a finite number")
        return float(value)
    parsed = parse_time(value)
    if isinstance(parsed, str):
        try:
            datetime.fromisoformat(parsed)
        except ValueError:
            raise PydanticCustomError(
                "time", "{got} is not an RFC 3339 time", {"got": _shown(parsed)}
            ) from None
    return parsed


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise PydanticCustomError("finite_number", "expected a finite number")
    return value


def _rsa_public_key_pem(value: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(value.encode())
    except ValueError:
        key = None
    if not isinstance(key, RSAPublicKey):
        raise PydanticCustomError(
            "public_key", "expected an RSA public key in PEM form (-----BEGIN PUBLIC KEY-----...)"
        )
    return value


TimeField = Annotated[TimeValue | None, PlainValidator(parse_time)]
ExpiryField = Annotated[float | TimeValue | None, PlainValidator(_parse_expiry)]
NonEmpty = Annotated[str, Field(min_length=1)]
Roles = list[str] | None


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_comments(cls, data: Any) -> Any:
        # Keys starting with "_" or "$" are comments, anywhere in a seed.
        if isinstance(data, Mapping):
            return {
                k: v
                for k, v in data.items()
                if not (isinstance(k, str) and k.startswith(_COMMENT_PREFIXES))
            }
        return data


# The data a connection serves (gatewayId, the identity's fields, unknown keys) is any JSON value,
# served as given: a wrongly typed answer is something clients must be tested against. What the
# emulator itself acts on (the id it is stored under, timestamps, flags) is checked strictly.
ServedValue: TypeAlias = Any


class IdentitySeed(_Model):
    model_config = ConfigDict(extra="allow")

    source_ip: ServedValue = Field("", alias="sourceIp")
    user_agent: ServedValue = Field("", alias="userAgent")


class ConnectionSeed(_Model):
    """One connection, API-shaped (camelCase); unknown keys are kept and served."""

    model_config = ConfigDict(extra="allow")

    id: str = ""
    gateway_id: ServedValue = Field(None, alias="gatewayId")  # None: generated
    identity: IdentitySeed | None = None
    connected_at: TimeField = Field(None, alias="connectedAt")
    last_active_at: TimeField = Field(None, alias="lastActiveAt")
    closed: bool = False


class _IdentityChange(_Model):
    source_ip: str | None = Field(None, alias="sourceIp")
    user_agent: str | None = Field(None, alias="userAgent")


class ConnectionChange(_Model):
    """The fields of a stored connection that can change (admin PATCH)."""

    gateway_id: str | None = Field(None, alias="gatewayId")
    identity: _IdentityChange | None = None
    connected_at: TimeField = Field(None, alias="connectedAt")
    last_active_at: TimeField = Field(None, alias="lastActiveAt")


class IamTokenSeed(_Model):
    token: NonEmpty
    roles: Roles = None
    expires_at: ExpiryField = Field(None, alias="expiresAt")


class OAuthTokenSeed(_Model):
    token: NonEmpty
    roles: Roles = None


class ServiceAccountKeySeed(_Model):
    # The authorized-key JSON `yc iam key create` writes, which has more fields: they are ignored.
    model_config = ConfigDict(extra="ignore")

    id: NonEmpty
    service_account_id: NonEmpty
    public_key: Annotated[str, AfterValidator(_rsa_public_key_pem)]
    roles: Roles = None


class Seed(_Model):
    """A seed file: every key optional (see the package docstring for the format)."""

    require_auth: bool | None = Field(None, alias="requireAuth")
    iam_token_ttl_seconds: (
        Annotated[float, Field(gt=0, le=MAX_RELATIVE_SECONDS), AfterValidator(_finite)] | None
    ) = Field(None, alias="iamTokenTtlSeconds")
    replay_connections: bool = Field(False, alias="replayConnections")
    connections: list[ConnectionSeed] = []
    iam_tokens: list[IamTokenSeed] = Field([], alias="iamTokens")
    oauth_tokens: list[OAuthTokenSeed] = Field([], alias="oauthTokens")
    service_account_keys: list[ServiceAccountKeySeed] = Field([], alias="serviceAccountKeys")
    metadata_roles: Roles = Field(None, alias="metadataRoles")  # given as null: no VM account


class ClockMove(_Model):
    """Admin request body of ``POST /_emulator/clock``."""

    advance_seconds: Annotated[
        float, Field(ge=0, le=MAX_RELATIVE_SECONDS), AfterValidator(_finite)
    ] = Field(alias="advanceSeconds")


SeedSource: TypeAlias = Seed | Mapping[str, Any] | str | os.PathLike[str]


# -- reading and validating --------------------------------------------------------------------


def load_seed(source: SeedSource) -> Seed:
    """A validated seed from a mapping, a ``Seed`` or a JSON file; SeedError says what is wrong."""
    if isinstance(source, Seed):
        return source
    if isinstance(source, Mapping):
        return validate(Seed, source)
    label = os.fspath(source)
    return validate(Seed, read_json(source), label)


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON value of a file; SeedError names the file (and line:column for bad JSON)."""
    label = os.fspath(path)
    try:
        with open(path, "rb") as file:
            # At most one byte more than a seed may hold: /dev/zero or a runaway pipe ends here.
            data = file.read(MAX_SEED_FILE_BYTES + 1)
    except OSError as exc:
        raise SeedError(f"{label}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > MAX_SEED_FILE_BYTES:
        limit = MAX_SEED_FILE_BYTES >> 20
        raise SeedError(f"{label}: larger than {limit} MiB, the most a seed file may hold")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SeedError(f"{label}: not UTF-8 text") from None
    try:
        return _loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(f"{label}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except _NotJsonNumber as exc:
        raise SeedError(f"{label}: not valid JSON: {exc}") from None
    except _TooDeep as exc:
        raise SeedError(f"{label}: {exc}") from None


def parse_json_body(body: bytes, what: str) -> Any:
    """The JSON value of a request body; SeedError when it is none."""
    try:
        return _loads(body.decode(json.detect_encoding(body)) if body else "null")
    except (json.JSONDecodeError, UnicodeDecodeError, _NotJsonNumber) as exc:
        raise SeedError(f"{what}: not valid JSON: {exc}") from None
    except _TooDeep as exc:
        raise SeedError(f"{what}: {exc}") from None


def _loads(text: str) -> Any:
    # Depth is measured before parsing: json.loads recurses, and would exhaust the stack first.
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise _TooDeep(_TOO_DEEP)
    return json.loads(text, parse_constant=_reject_constant)


def _json_depth(text: str) -> int:
    """How deep arrays and objects nest in JSON text (its strings left out)."""
    depth = deepest = 0
    brackets = _NOT_BRACKET.sub("", _STRING_LITERAL.sub("", text))
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
    return deepest


_TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


class _TooDeep(ValueError):
    pass


class _NotJsonNumber(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; JSON has neither.
    raise _NotJsonNumber(f"{name} is not a JSON number")


def validate(model: type[_M], data: Any, source: str | None = None) -> _M:
    """``model`` validated from ``data``; SeedError with ``source:key: problem`` otherwise."""
    check_servable(data, source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SeedError(describe(exc, model, source)) from None


def check_servable(data: Any, source: str | None = None) -> None:
    """SeedError unless ``data`` can be served back as JSON: not too deep, only Unicode text."""
    problem = _unservable(data)
    if problem is not None:
        where, text = problem
        raise SeedError(_located(source, where, text))


def _unservable(data: Any) -> tuple[str, str] | None:
    """Where and why ``data`` cannot be served, first in document order; None if it can."""
    # Iterative, so that a structure deeper than the stack is reported rather than crashing.
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(data, 0, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return _dotted(path), f"{_escaped(value)} is not Unicode text (a lone surrogate)"
            continue
        if isinstance(value, Mapping):
            items: list[tuple[Any, Any]] = list(value.items())
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        else:
            continue
        if depth >= MAX_JSON_DEPTH:
            return "", _TOO_DEEP
        for key, _ in items:
            if isinstance(key, str) and _SURROGATE.search(key):
                return _dotted(path), f"key {_escaped(key)} is not Unicode text (a lone surrogate)"
        stack.extend((item, depth + 1, (*path, key)) for key, item in reversed(items))
    return None


def _escaped(text: str) -> str:
    shown = json.dumps(text)  # ASCII: a surrogate shows as its \uXXXX escape
    return shown if len(shown) <= 60 else shown[:56] + '..."'


def _located(source: str | None, where: str, problem: str) -> str:
    if source is not None:
        return f"{source}:{where}: {problem}" if where else f"{source}: {problem}"
    return f"{where}: {problem}" if where else problem


def time_value(value: object, what: str) -> TimeValue | None:
    """``parse_time`` for the Python API: SeedError naming ``what`` when the value is no time."""
    try:
        return parse_time(value)
    except PydanticCustomError as exc:
        raise SeedError(f"{what}: {exc.message()}") from None


def describe(error: ValidationError, model: type[BaseModel], source: str | None = None) -> str:
    """The first problem of a validation error as one line, and how many more there are."""
    # An unknown key first: usually a misspelt one, which also explains a "missing" one.
    problems = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = problems[0]
    loc = list(first["loc"])
    context = first.get("ctx") or {}
    if "key" in context:
        loc.append(str(context["key"]))
    line = _located(source, _dotted(loc), _problem(first, model))
    if len(problems) > 1:
        more = len(problems) - 1
        line += f" (and {more} more problem{'s' if more > 1 else ''})"
    return line


_PROBLEMS = {
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "float_type": "expected a number",
    "int_type": "expected a number",
    "dict_type": "expected a JSON object",
    "model_type": "expected a JSON object",
    "model_attributes_type": "expected a JSON object",
    "list_type": "expected a JSON list",
    "missing": "missing (required)",
    "string_too_short": "must not be empty",
}


def _problem(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _keys_at(model, [p for p in error["loc"][:-1] if isinstance(p, str)])
        hint = f"; expected one of {', '.join(allowed)}" if allowed else ""
        return f"unknown key{hint} (keys starting with _ are comments)"
    if kind in _PROBLEMS:
        text = _PROBLEMS[kind]
        return text if kind == "missing" else f"{text}, got {_shown(error.get('input'))}"
    bound = _BOUNDS.get(kind)
    if bound is not None:
        phrase, name = bound
        limit = (error.get("ctx") or {}).get(name)
        return f"must be {phrase} {limit:g}, got {_shown(error.get('input'))}"
    message: str = error["msg"]
    return message


_BOUNDS = {
    "greater_than": ("more than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}


def _keys_at(model: type[BaseModel], path: Sequence[str]) -> list[str]:
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return []
        fields = {(f.alias or name): f for name, f in current.model_fields.items()}
        field = fields.get(part)
        current = _model_in(field.annotation) if field is not None else None
    if current is None:
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _dotted(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _shown(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    # A message must be sendable: a lone surrogate shows as its escape.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 60 else text[:57] + "..."
