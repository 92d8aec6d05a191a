"""Benchmarks run on purpose (``python tests/bench/bench_*.py``); pytest never collects them."""
