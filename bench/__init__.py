"""Benchmarks that measure each figure as a ratio of two things run side by side.

Run them with ``make bench`` or ``python -m bench`` from the repository
root; the results go to ``docs/benchmarks.md``. Each module measures one
row of that page and exposes ``run(context) -> list[Figure]``.
"""
