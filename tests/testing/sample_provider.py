"""A small dynamic provider used only by the tests of ``pulumi_yc_websocket.testing``.

It is imported by the provider subprocess (pickled by reference), so it must stay importable
from this directory. Its "cloud" is a JSON file in ``$SAMPLE_PROVIDER_DIR`` and it logs every
call to ``calls.jsonl`` there, so tests can observe what the real server did.

Inputs: ``name`` (replaces on change), ``size`` (updates in place), optional ``dbr`` (ask for
delete-before-replace), ``lookup`` (``check`` adds a looked-up ``looked_up_ip``, returned as a
secret on the wire when ``lookup == "secret"``), ``explode`` (``"check"``/``"create"``/``"read"``:
raise there), ``fail`` (``check`` reports a failure).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime.rpc import wrap_rpc_secret

_LOCK = threading.Lock()
LOOKED_UP_IP = "203.0.113.7"
USER_KEYS = ("name", "size", "lookup", "dbr")


def _dir() -> Path:
    return Path(os.environ["SAMPLE_PROVIDER_DIR"])


def log(op: str, **data: Any) -> None:
    """Append one call record to ``calls.jsonl``."""
    with _LOCK, (_dir() / "calls.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"op": op, **data}, default=repr) + "\n")


def _load() -> dict[str, Any]:
    path = _dir() / "backend.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save(objects: dict[str, Any]) -> None:
    (_dir() / "backend.json").write_text(json.dumps(objects))


def _describe(value: Any) -> Any:
    return "<unknown>" if isinstance(value, Unknown) else value


class SampleProvider(ResourceProvider):
    """Derives fields in check, replaces on a name change, reads from the JSON backend."""

    def __init__(self, tag: str = "") -> None:
        super().__init__()
        self.tag = tag  # a distinct tag gives a distinct pickle: configure() runs again

    def configure(self, req: ConfigureRequest) -> None:
        print(f"sample provider {self.tag!r} configured", file=sys.stderr, flush=True)
        log(
            "configure",
            tag=self.tag,
            token=req.config.get("yandex:token"),
            endpoint=req.config.get("yandex:endpoint"),
            flag=req.config.get("flag"),
        )

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        log("check", news={k: _describe(news.get(k)) for k in USER_KEYS if k in news})
        if news.get("explode") == "check":
            raise RuntimeError("boom in check")
        inputs = dict(news)
        if news.get("fail"):
            return CheckResult(inputs, [CheckFailure("size", "size must be positive")])
        name = news.get("name")
        if isinstance(name, str):
            inputs["derived"] = name.upper()
        if news.get("lookup") in ("plain", "secret"):
            ip = LOOKED_UP_IP
            inputs["looked_up_ip"] = wrap_rpc_secret(ip) if news["lookup"] == "secret" else ip
        return CheckResult(inputs, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("name", "size", "derived", "looked_up_ip", "lookup")
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        log("diff", id=_id, changed=changed)
        if "name" in changed:
            return DiffResult(
                changes=True, replaces=["name"], delete_before_replace=bool(news.get("dbr"))
            )
        return DiffResult(changes=bool(changed), replaces=[])

    def _outputs(self, new_id: str, props: dict[str, Any]) -> dict[str, Any]:
        outs: dict[str, Any] = {
            k: props[k] for k in ("name", "size", "derived", "lookup") if k in props
        }
        outs["remote_id"] = new_id
        if "looked_up_ip" in props:
            ip = props["looked_up_ip"]
            outs["looked_up_ip"] = wrap_rpc_secret(ip) if props.get("lookup") == "secret" else ip
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        log("create", name=props.get("name"), received_ip=props.get("looked_up_ip"))
        if props.get("explode") == "create":
            raise ValueError("create exploded")
        new_id = f"{props['name']}-{uuid.uuid4().hex[:8]}"
        outs = self._outputs(new_id, props)
        with _LOCK:
            objects = _load()
            objects[new_id] = {k: v for k, v in outs.items() if k != "looked_up_ip"}
            _save(objects)
        return CreateResult(new_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        log("read", id=id_, name=props.get("name"))
        if props.get("explode") == "read":
            raise LookupError(f"cannot read {id_}")
        with _LOCK:
            live = _load().get(id_)
        if live is None:
            return ReadResult("", {})
        outs = dict(props)
        outs.update(live)
        return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        log(
            "update",
            id=id_,
            name=news.get("name"),
            old_size=olds.get("size"),
            size=news.get("size"),
        )
        outs = self._outputs(id_, news)
        with _LOCK:
            objects = _load()
            objects[id_] = {k: v for k, v in outs.items() if k != "looked_up_ip"}
            _save(objects)
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        log("delete", id=id_, name=props.get("name"))
        with _LOCK:
            objects = _load()
            objects.pop(id_, None)
            _save(objects)


class Sample(Resource, module="sample", name="Sample"):
    """The sample dynamic resource (type ``pulumi-python:dynamic/sample:Sample``)."""

    name: pulumi.Output[str]
    size: pulumi.Output[float]
    derived: pulumi.Output[str]
    remote_id: pulumi.Output[str]
    looked_up_ip: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        tag: str = "",
    ) -> None:
        all_props = {"derived": None, "remote_id": None, "looked_up_ip": None, **props}
        super().__init__(SampleProvider(tag), resource_name, all_props, opts)


class PlainProvider(ResourceProvider):
    """Only ``create``: the default ``diff`` (unknown) and ``update`` (no outputs) apply."""

    def __init__(self, tag: str = "") -> None:
        super().__init__()
        self.tag = tag

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"plain-{uuid.uuid4().hex[:8]}", dict(props))


class Plain(Resource, module="sample", name="Plain"):
    """A dynamic resource served by :class:`PlainProvider`."""

    def __init__(
        self,
        resource_name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        tag: str = "",
    ) -> None:
        super().__init__(PlainProvider(tag), resource_name, props, opts)


def calls(op: str | None = None) -> list[dict[str, Any]]:
    """The calls logged so far (optionally only one operation)."""
    path = _dir() / "calls.jsonl"
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [r for r in records if op is None or r["op"] == op]


def backend() -> dict[str, Any]:
    """The live objects of the fake cloud."""
    return _load()


def forget(remote_id: str) -> None:
    """Delete an object behind the engine's back (drift)."""
    with _LOCK:
        objects = _load()
        objects.pop(remote_id, None)
        _save(objects)
