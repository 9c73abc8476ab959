"""The benchmark suite still runs: ``python -m bench --quick`` end to end (no timing asserted)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {
    "client_cpu",
    "client_latency",
    "provider_server",
    "state_size",
    "cold_start",
    "engine",
}


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.timeout(240)
def test_quick_run_writes_every_section(tmp_path: Path) -> None:
    pytest.importorskip("yandexcloud", reason="the bench extra (yandexcloud) is not installed")
    pytest.importorskip("matplotlib", reason="the bench extra (matplotlib) is not installed")

    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=230,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]

    results = json.loads((tmp_path / "latest.json").read_text())
    assert results["meta"]["quick"] is True
    assert set(results["sections"]) == SECTIONS
    for name, section in results["sections"].items():
        assert "error" not in section, f"{name}: {section.get('error')}"
    assert results["goals"], "no goal verdicts"
    assert all(isinstance(g["pass"], bool) for g in results["goals"])
    assert len(list(tmp_path.glob("20*.json"))) == 1

    sections = results["sections"]
    for variant, by_threads in sections["client_cpu"]["variants"].items():
        assert set(by_threads) == {"1", "4", "16"}, variant
        for stats in by_threads.values():
            assert stats["errors"] == 0, variant
            assert _positive(stats["lookups_per_s"])
            assert _positive(stats["cpu_us_per_lookup"])
            assert stats["p50_ms"] <= stats["p99_ms"]
    for variant in ("client", "naive", "grpc"):
        stats = sections["client_latency"]["variants"][variant]
        assert stats["errors"] == 0
        assert _positive(stats["lookups_per_s"])
        # 50 ms is added to every answer: no lookup can be faster.
        assert stats["p50_ms"] >= 50.0

    provider = sections["provider_server"]["variants"]
    for variant in ("package", "naive"):
        for stats in provider[variant].values():
            assert _positive(stats["wall_s"])
            assert stats["token_exchanges"] >= 1
    state = sections["state_size"]["variants"]
    assert 0 < state["package"]["provider_bytes"] < state["naive"]["provider_bytes"]
    cold = sections["cold_start"]
    assert _positive(cold["variants"]["provider_first_lookup"]["median_s"])
    assert "pulumi_yc_websocket" in cold["import_costs"]["self_ms_by_package"]

    engine = sections["engine"]
    if "skipped" in engine:
        assert not os.environ.get("CI"), f"CI must run the real-CLI benchmark: {engine['skipped']}"
    else:
        for n, measured in engine["sizes"].items():
            assert _positive(measured["lookups"]["up_s"]), n
            assert _positive(measured["floor"]["preview_s"]), n
            # `up` is a preview and an update: each looks every resource up once, in its own
            # provider process, which exchanges the OAuth token once.
            assert measured["gets_per_lookup_per_up"] == 2
            assert measured["provider_processes_per_up"] == 2
            assert measured["token_exchanges_per_up"] == 2

    summary = (tmp_path / "SUMMARY.md").read_text()
    assert "## Goals" in summary
    assert (tmp_path / "throughput_vs_threads.png").stat().st_size > 0
    assert (tmp_path / "provider_wall_vs_n.png").stat().st_size > 0
