"""Benchmarks, side by side with the peers in one run: `python -m bench` runs them all and writes
docs/benchmarks.md; `python -m bench.NAME` runs one (see each module's docstring)."""
