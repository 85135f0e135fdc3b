"""Every benchmark runs at a tiny size and returns its figures.

The figures of a tiny run mean nothing, so no test compares one with its
goal or with a time: these tests only keep the benchmarks from breaking
unnoticed while the code they measure changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench.__main__ import BENCHMARKS, main, run_benchmark
from bench.harness import Context

POSTGRES_URL = os.environ.get(
    "CROSSWORD_HINTS_TEST_DATABASE", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_benchmark_runs_at_tiny_size(name: str, tmp_path: Path) -> None:
    context = Context(scale="tiny", workdir=tmp_path, postgres_url=POSTGRES_URL)

    figures = run_benchmark(BENCHMARKS[name], context, strict=True)

    assert figures, f"{name} returned no figures"
    for figure in figures:
        assert figure.missing == "", f"{figure.title}: {figure.missing}"
        assert figure.ratio is not None, f"{figure.title} has no ratio"
        assert figure.ratio > 0, f"{figure.title} has ratio {figure.ratio}"
        assert figure.measured, f"{figure.title} has no measured value"
        assert figure.met is not None, f"{figure.title} was not checked"


@pytest.mark.slow
def test_bench_command_writes_page(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"

    status = main(
        [
            "--scale",
            "tiny",
            "--only",
            "entry-size",
            "--output",
            str(output),
            "--postgres-url",
            POSTGRES_URL,
        ]
    )

    assert status == 0
    page = output.read_text(encoding="utf-8")
    assert "| What | Compared with | Goal | Measured | Ratio |" in page
    assert "Bytes stored for a one-word edit of a 2 KB hint" in page
    assert "CPU:" in page
    assert "not measured" not in page
