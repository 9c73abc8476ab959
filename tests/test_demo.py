"""``make demo`` without a Pulumi CLI: the example programs run under Pulumi's mocks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_without_a_cli_the_programs_run_under_mocks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("demo_under_test", ROOT / "examples" / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "demo_under_test", demo)
    spec.loader.exec_module(demo)
    monkeypatch.setattr(demo, "find_cli", lambda: None)
    assert demo.main() == 0
    shown = capsys.readouterr().out
    assert "(no pulumi CLI: `make pulumi-cli` builds one, with Go; the Python programs" in shown
    for example in ("connection-info", "monitoring", "routing"):
        assert f"examples/{example}: its lookups under Pulumi's mocks (no CLI)" in shown
    assert 'connection-QNrys_mcvsLgIdBMyCrxvYf8: {"found": false' in shown  # closed, allowed
    assert '"gatewayId": "d5dm1lba80md4pmj2qke"' in shown
