"""Benchmarks of pulumi-yc-websocket: ratios against baselines measured in the same run.

``python -m bench`` runs the whole suite (``--quick`` for a smoke run); see ``bench/README.md``.
"""
