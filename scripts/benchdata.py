"""The benchmark's dataset: ``demo.synthetic`` (the same row builder as the demo seed and
the test worlds), under the names the benchmark scripts use."""

from __future__ import annotations

from demo.synthetic import Dataset, SeededTenant, build, search_term, seed

SEARCH_TERM = search_term()

__all__ = ["SEARCH_TERM", "Dataset", "SeededTenant", "build", "seed"]
