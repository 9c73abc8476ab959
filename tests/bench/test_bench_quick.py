"""The benchmark suite still runs: ``python -m bench --quick`` end to end (no timing asserted)."""

from __future__ import annotations

import importlib.util
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
    "plugin_engine",
}


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.timeout(240)
def test_quick_run_writes_every_section(tmp_path: Path) -> None:
    # Looked for, not imported: yandexcloud's google.rpc.Status clashes in one process with the
    # copy Pulumi's provider server registers (the plugin's tests import it).
    for extra in ("yandexcloud", "matplotlib"):
        if importlib.util.find_spec(extra) is None:
            pytest.skip(f"the bench extra ({extra}) is not installed")

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
            for variant, walls in measured["wall_s"].items():
                assert all(_positive(wall) for wall in walls.values()), (n, variant)
                cpu = measured["preview_cpu_s"][variant]
                assert _positive(cpu["command"]), (n, cpu)
                assert _positive(cpu["cores_busy"]), (n, cpu)
            # `up` is a preview and an update. Overlapped: the program looks up in each (one
            # token exchange per program process), the provider processes send nothing.
            # Serial: each provider process looks every resource up in Check and exchanges.
            for variant in ("overlapped", "serial"):
                up = measured["up"][variant]
                assert up["gets_per_resource"] == 2, (variant, up)
                assert up["program_processes"] == 2, (variant, up)
                assert up["provider_processes"] == 2, (variant, up)
                assert up["token_exchanges"] == 2, (variant, up)
            # `refresh --skip-preview`: one Read, one lookup per resource.
            assert measured["refresh"]["gets_per_resource"] == 1
        slow = engine["slow_connection"]
        # The slow answer holds up the preview it is part of, whatever the design.
        assert all(delay > 0 for delay in slow["delay_s"].values()), slow
        assert {g["id"] for g in engine["goals"]} >= {"6e"}

    plugin = sections["plugin_engine"]
    if "skipped" in plugin:
        assert not os.environ.get("CI"), f"CI must run the plugin benchmark: {plugin['skipped']}"
    else:
        for n, size in plugin["sizes"].items():
            for parallel, measured in size["by_parallel"].items():
                where = (n, parallel)
                variants = measured["variants"]
                for variant, commands in variants.items():
                    for command, run in commands.items():
                        assert _positive(run["wall_s"]), (where, variant, command)
                        assert _positive(run["cpu_s"]), (where, variant, command)
                        # Every command starts one provider process per program run.
                        expected = 2 if command == "up" else 1
                        assert run["provider_processes"] == expected, (where, variant, command)
                        assert _positive(run["provider_cpu_s"]), (where, variant, command)
                # The plugin: a lookup per Create (preview and update) and per Read, one token
                # exchange per process. The dynamic provider: the program looks up in preview
                # and update, its provider in Read. The floor sends nothing.
                for variant in ("plugin", "dynamic"):
                    commands = variants[variant]
                    assert commands["preview"]["gets_per_resource"] == 1, (where, variant)
                    assert commands["up"]["gets_per_resource"] == 2, (where, variant)
                    assert commands["refresh"]["gets_per_resource"] == 1, (where, variant)
                    assert commands["up"]["token_exchanges"] == 2, (where, variant)
                    assert commands["refresh"]["token_exchanges"] == 1, (where, variant)
                    assert commands["refresh"]["gets_peak_in_flight"] >= 1, (where, variant)
                for run in variants["plugin_floor"].values():
                    assert run["gets"] == 0, (where, run)
                    assert run["token_exchanges"] == 0, (where, run)
        cold = plugin["cold_start"]
        for name in ("plugin", "dynamic"):
            assert _positive(cold[name]["total_s"]), cold
            assert cold["imports"][name]["total_ms"] > 0, cold
        assert {g["id"] for g in plugin["goals"]} >= {"7d", "7e", "7f"}

    summary = (tmp_path / "SUMMARY.md").read_text()
    assert "## Goals" in summary
    assert (tmp_path / "throughput_vs_threads.png").stat().st_size > 0
    assert (tmp_path / "provider_wall_vs_n.png").stat().st_size > 0
    if "skipped" not in engine:
        assert (tmp_path / "engine_wall_vs_n.png").stat().st_size > 0
    if "skipped" not in plugin:
        assert "The provider plugin through the real Pulumi CLI" in summary
