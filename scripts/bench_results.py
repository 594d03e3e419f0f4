"""The benchmark's measurements and their report: operations timed variant by variant,
ratios against the targets, tables for the terminal and for docs/performance.md."""

from __future__ import annotations

import cProfile
import dataclasses
import gc
import io
import pstats
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from benchkit import Request, Summary, data_of, percentile, table

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "performance.md"
PAGE_SIZE = 100
TARGETS = {"authz": 1.10, "floor": 3.0, "growth": 1.2}

BASE, LARGE, UNGUARDED, FLOOR = "base", "large", "large, no guard", "floor"

LABELS = {
    "lookup": "booking(id:)",
    "page": f"bookings(first: {PAGE_SIZE})",
    "search": "customers(search:, first: 20)",
    "mydata": "myData (20 bookings, 2 businesses)",
    "export": "exportMyData (same size)",
    "erase": "eraseCustomer",
}
# Mutations change the data, so their answers are not compared between rounds.
MUTATIONS = frozenset({"export", "erase"})


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------

Probe = Callable[[int], Awaitable[bytes]]


def http_probe(client: httpx.AsyncClient, make: Callable[[int], Request]) -> Probe:
    async def probe(round_number: int) -> bytes:
        response = await make(round_number).send(client)
        data_of(response)  # raises on an HTTP or GraphQL error
        return response.content

    return probe


@dataclass
class Operation:
    name: str
    label: str
    rounds: int
    samples_ms: dict[str, list[float]]
    response_bytes: dict[str, int]

    def summary(self, variant: str) -> Summary:
        return Summary.of(self.samples_ms[variant])

    def ratio(self, of: str, base: str) -> dict[str, float] | None:
        if of not in self.samples_ms or base not in self.samples_ms:
            return None
        a, b = self.summary(of), self.summary(base)
        paired = [x / y for x, y in zip(self.samples_ms[of], self.samples_ms[base], strict=True)]
        return {
            "p50": a.p50_ms / b.p50_ms,
            "p95": a.p95_ms / b.p95_ms,
            "mean": a.mean_ms / b.mean_ms,
            "paired_median": percentile(paired, 0.5),
        }

    def ratios(self) -> dict[str, dict[str, float] | None]:
        return {
            "authz": self.ratio(LARGE, UNGUARDED),
            "floor": self.ratio(LARGE, FLOOR),
            "growth": self.ratio(LARGE, BASE),
        }

    def verdicts(self) -> dict[str, bool]:
        return {
            kind: ratio["p50"] <= TARGETS[kind]
            for kind, ratio in self.ratios().items()
            if ratio is not None
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "operation": self.label,
            "rounds": self.rounds,
            "variants": {
                variant: {
                    **dataclasses.asdict(self.summary(variant)),
                    "response_bytes": self.response_bytes[variant],
                    "samples_ms": samples,
                }
                for variant, samples in self.samples_ms.items()
            },
            "ratios": self.ratios(),
            "targets": {kind: TARGETS[kind] for kind in self.verdicts()},
            "within_target": self.verdicts(),
        }


async def measure(name: str, probes: dict[str, Probe], *, rounds: int, warmup: int) -> Operation:
    """Run every variant once per round, in turn; queries must answer alike every round."""
    operation = Operation(
        name, LABELS[name], rounds, {v: [] for v in probes}, {v: 0 for v in probes}
    )
    first: dict[str, bytes] = {}
    for round_number in range(-warmup, rounds):
        for variant, probe in probes.items():
            gc.collect()
            started = time.perf_counter()
            content = await probe(round_number + warmup)
            elapsed = (time.perf_counter() - started) * 1000.0
            operation.response_bytes[variant] = len(content)
            if name not in MUTATIONS and first.setdefault(variant, content) != content:
                raise RuntimeError(f"{variant} answered {name} differently in round {round_number}")
            if round_number >= 0:
                operation.samples_ms[variant].append(elapsed)
    return operation


# --------------------------------------------------------------------------
# Profiling
# --------------------------------------------------------------------------


async def profile(probe: Probe, count: int, top: int = 25) -> list[str]:
    profiler = cProfile.Profile()
    for i in range(count):
        gc.collect()
        profiler.enable()
        await probe(10_000 + i)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return [f"    {line.replace(str(REPO) + '/', '')}" for line in lines[start:]]


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _ratio(ratio: dict[str, float] | None, kind: str) -> str:
    if ratio is None:
        return "—"
    mark = "" if ratio["p50"] <= TARGETS[kind] else " ✗"
    return f"{ratio['p50']:.2f}{mark}"


def result_lines(operations: list[Operation]) -> list[str]:
    header = ["operation", "variant", "p50 ms", "p95 ms", "mean ms", "ops/s", "bytes"]
    rows: list[list[str]] = []
    for operation in operations:
        if rows:
            rows.append([])
        for i, variant in enumerate(operation.samples_ms):
            s = operation.summary(variant)
            rows.append(
                [
                    operation.label if i == 0 else "",
                    variant,
                    _ms(s.p50_ms),
                    _ms(s.p95_ms),
                    _ms(s.mean_ms),
                    f"{s.ops_per_s:.0f}",
                    str(operation.response_bytes[variant]),
                ]
            )
    return table(header, rows)


def ratio_lines(operations: list[Operation]) -> list[str]:
    header = [
        "operation",
        f"(a) guard <= {TARGETS['authz']:.2f}",
        f"(b) floor <= {TARGETS['floor']:.1f}",
        f"(c) growth <= {TARGETS['growth']:.1f}",
    ]
    rows = [
        [o.label, *(_ratio(o.ratios()[k], k) for k in ("authz", "floor", "growth"))]
        for o in operations
    ]
    return [
        "p50 ratios (✗: over target); paired medians are in the JSON",
        *table(header, rows, left=1),
    ]


def markdown(report: dict[str, Any], operations: list[Operation]) -> str:
    p = report["parameters"]
    sides = report["sides"]
    lines = [
        f"Backend **{report['backend_name']}**, {p['rounds']} interleaved rounds after "
        f"{p['warmup']} warm-up; base {sides[BASE]['bookings']:,} bookings "
        f"({p['tenants']} tenants), large {sides[LARGE]['bookings']:,} bookings "
        f"(seeded in {sides[LARGE]['seed_seconds']:.0f} s); "
        + ", ".join(f"{k} {v}" for k, v in report["versions"].items())
        + ".",
        "",
        "| operation | p50 ms | p95 ms | ops/s | no guard p50 | base p50 | (a) guard | "
        "(b) floor | (c) growth |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in operations:
        large, base = o.summary(LARGE), o.summary(BASE)
        unguarded = o.summary(UNGUARDED).p50_ms
        ratios = o.ratios()
        floor = (
            f"{_ratio(ratios['floor'], 'floor')} ({_ms(o.summary(FLOOR).p50_ms)} ms)"
            if ratios["floor"]
            else "—"
        )
        lines.append(
            f"| {o.label} | {_ms(large.p50_ms)} | {_ms(large.p95_ms)} | {large.ops_per_s:.0f} | "
            f"{_ms(unguarded)} | {_ms(base.p50_ms)} | {_ratio(ratios['authz'], 'authz')} | "
            f"{floor} | {_ratio(ratios['growth'], 'growth')} |"
        )
    missed = [
        f"{o.label} ({kind})" for o in operations for kind, ok in o.verdicts().items() if not ok
    ]
    lines += [
        "",
        "Targets: (a) <= 1.10, (b) <= 3.0, (c) <= 1.2, all at p50. "
        + (f"Missed: {', '.join(missed)}." if missed else "All held."),
    ]
    return "\n".join(lines)


def write_docs(backend: str, text: str) -> None:
    start, end = f"<!-- bench:{backend}:start -->", f"<!-- bench:{backend}:end -->"
    block = f"{start}\n{text}\n{end}"
    current = DOCS.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _m: block, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(updated)
