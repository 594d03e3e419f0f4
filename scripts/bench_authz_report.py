"""The guard benchmark's figures and report: results per operation, the profile of the
guard's own work, and the lines printed for each."""

from __future__ import annotations

import cProfile
import dataclasses
import gc
import pstats
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench_authz_apps import GUARDED, OTHER_TENANT, UNGUARDED
from benchkit import Request, Summary, percentile, table

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.10
# Where the profile looks for the guard's own work.
GUARD_MODULES = (
    "schema/guard.py",
    "authz/relations.py",
    "authz/decisions.py",
    "authz/operation_check.py",
    "graphql/execution/middleware.py",
)

# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


@dataclass
class OperationResult:
    """Interleaved samples of one operation on several apps."""

    name: str
    label: str
    rounds: int
    fields_resolved: int
    response_bytes: int
    samples_ms: dict[str, list[float]]

    def summary(self, app: str) -> Summary:
        return Summary.of(self.samples_ms[app])

    def ratios(self, app: str = GUARDED) -> dict[str, float]:
        of, base = self.summary(app), self.summary(UNGUARDED)
        return {
            "p50": of.p50_ms / base.p50_ms,
            "p95": of.p95_ms / base.p95_ms,
            "mean": of.mean_ms / base.mean_ms,
        }

    def shares(self, app: str = GUARDED) -> dict[str, float]:
        """Share of ``app``'s request time that the unguarded app does not spend."""
        of, base = self.summary(app), self.summary(UNGUARDED)
        return {
            "p50": (of.p50_ms - base.p50_ms) / of.p50_ms,
            "mean": (of.mean_ms - base.mean_ms) / of.mean_ms,
        }

    def extra_ms(self, app: str = GUARDED) -> dict[str, float]:
        of, base = self.summary(app), self.summary(UNGUARDED)
        return {"p50": of.p50_ms - base.p50_ms, "mean": of.mean_ms - base.mean_ms}

    def paired_ratio(self, app: str = GUARDED) -> dict[str, float]:
        """Quartiles of the per-round ratios: each pair ran back to back, under the same load."""
        ratios = [
            of / base
            for of, base in zip(self.samples_ms[app], self.samples_ms[UNGUARDED], strict=True)
        ]
        return {
            "p25": percentile(ratios, 0.25),
            "median": percentile(ratios, 0.5),
            "p75": percentile(ratios, 0.75),
        }

    def per_field_us(self, app: str = GUARDED) -> float:
        return self.extra_ms(app)["p50"] * 1000.0 / self.fields_resolved

    def within_target(self) -> bool:
        ratios = self.ratios()
        return ratios["p50"] <= TARGET_RATIO and ratios["mean"] <= TARGET_RATIO

    def as_json(self) -> dict[str, Any]:
        others = [app for app in self.samples_ms if app != UNGUARDED]
        return {
            "operation": self.label,
            "rounds": self.rounds,
            "fields_resolved": self.fields_resolved,
            "response_bytes": self.response_bytes,
            "apps": {
                app: {**dataclasses.asdict(self.summary(app)), "samples_ms": samples}
                for app, samples in self.samples_ms.items()
            },
            "against_unguarded": {
                app: {
                    "ratio": self.ratios(app),
                    "paired_ratio": self.paired_ratio(app),
                    "authorization_share": self.shares(app),
                    "extra_ms": self.extra_ms(app),
                    "extra_us_per_field": self.per_field_us(app),
                }
                for app in others
            },
            "target_ratio": TARGET_RATIO,
            "within_target": self.within_target(),
        }


def count_fields(value: Any) -> int:
    """Fields resolved to produce a response: one per key of every object in it."""
    if isinstance(value, dict):
        return sum(1 + count_fields(item) for item in value.values())
    if isinstance(value, list):
        return sum(count_fields(item) for item in value)
    return 0


# --------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------

FunctionKey = tuple[str, int, str]
FunctionTimes = dict[FunctionKey, tuple[int, float, float]]  # calls, own s, cumulative s


async def profile_app(client: httpx.AsyncClient, request: Request, count: int) -> FunctionTimes:
    profiler = cProfile.Profile()
    for _ in range(count):
        gc.collect()
        profiler.enable()
        await request.send(client)
        profiler.disable()
    raw: dict[FunctionKey, tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return {key: (value[1], value[2], value[3]) for key, value in raw.items()}


def function_name(key: FunctionKey) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    for prefix in (f"{REPO}/", "site-packages/"):
        if prefix in filename:
            filename = filename.split(prefix, 1)[1]
            break
    return f"{filename}:{line}({name})"


def profile_report(
    guarded: FunctionTimes, unguarded: FunctionTimes, requests: int, top: int = 15
) -> dict[str, Any]:
    per_request = 1000.0 / requests
    differences = []
    for key in guarded.keys() | unguarded.keys():
        if key[0] == __file__:  # the benchmark's own frames: profiler bookkeeping
            continue
        g_calls, g_own, _ = guarded.get(key, (0, 0.0, 0.0))
        u_calls, u_own, _ = unguarded.get(key, (0, 0.0, 0.0))
        differences.append((key, (g_own - u_own) * per_request, g_calls - u_calls))
    differences.sort(key=lambda item: item[1], reverse=True)
    guard_functions = sorted(
        (
            (key, calls, own * per_request, cumulative * per_request)
            for key, (calls, own, cumulative) in guarded.items()
            if any(module in key[0] for module in GUARD_MODULES)
        ),
        key=lambda item: item[2],
        reverse=True,
    )
    return {
        "requests_profiled": requests,
        "profiled_ms_per_request": {
            GUARDED: sum(own for _, own, _ in guarded.values()) * per_request,
            UNGUARDED: sum(own for _, own, _ in unguarded.values()) * per_request,
        },
        "largest_differences": [
            {
                "function": function_name(key),
                "extra_own_ms_per_request": extra,
                "extra_calls_per_request": calls / requests,
            }
            for key, extra, calls in differences[:top]
        ],
        "guard_functions": [
            {
                "function": function_name(key),
                "calls_per_request": calls / requests,
                "own_ms_per_request": own,
                "cumulative_ms_per_request": cumulative,
            }
            for key, calls, own, cumulative in guard_functions[:top]
        ],
    }


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def operation_lines(results: list[OperationResult]) -> list[str]:
    header = ["operation", "app", "p50 ms", "p95 ms", "mean ms", "stdev", "min ms", "ops/s"]
    rows: list[list[str]] = []
    for result in results:
        if rows:
            rows.append([])
        for app in (GUARDED, UNGUARDED):
            s = result.summary(app)
            rows.append(
                [
                    result.label if app == GUARDED else "",
                    app,
                    f"{s.p50_ms:.2f}",
                    f"{s.p95_ms:.2f}",
                    f"{s.mean_ms:.2f}",
                    f"{s.stdev_ms:.2f}",
                    f"{s.min_ms:.2f}",
                    f"{s.ops_per_s:.1f}",
                ]
            )
        r = result.ratios()
        rows.append(
            ["", "guarded/unguarded", f"{r['p50']:.3f}", f"{r['p95']:.3f}", f"{r['mean']:.3f}"]
            + [""] * 3
        )
    lines = table(header, rows)
    for result in results:
        shares, ratios, paired = result.shares(), result.ratios(), result.paired_ratio()
        verdict = "within target" if result.within_target() else "OVER TARGET"
        lines += [
            "",
            f"{result.label}: authorization share of request time "
            f"{shares['p50'] * 100:.1f} % (p50), {shares['mean'] * 100:.1f} % (mean); "
            f"guarded/unguarded p50 {ratios['p50']:.3f}, mean {ratios['mean']:.3f}, "
            f"target <= {TARGET_RATIO:.2f}: {verdict}",
            f"    per-round ratio median {paired['median']:.3f} "
            f"(quartiles {paired['p25']:.3f} to {paired['p75']:.3f}) over {result.rounds} "
            f"interleaved rounds",
            f"    {result.fields_resolved} fields resolved, "
            f"{result.response_bytes} bytes per response; guard cost "
            f"{result.per_field_us():.2f} us per resolved field (p50)",
        ]
    return lines


def breakdown_lines(result: OperationResult) -> list[str]:
    header = ["app", "p50 ms", "mean ms", "+p50 ms", "+mean ms", "us/field", "share of guard"]
    total = result.extra_ms()["p50"]
    rows = []
    for app in result.samples_ms:
        s, extra = result.summary(app), result.extra_ms(app)
        rows.append(
            [
                app,
                f"{s.p50_ms:.2f}",
                f"{s.mean_ms:.2f}",
                f"{extra['p50']:+.2f}",
                f"{extra['mean']:+.2f}",
                f"{result.per_field_us(app):.2f}",
                f"{extra['p50'] / total * 100:.0f} %" if app != UNGUARDED and total > 0 else "",
            ]
        )
    return [
        f"where the guard's time goes, {result.label}: {result.rounds} interleaved rounds "
        f"of {len(result.samples_ms)} apps; + = more than unguarded",
        *table(header, rows, left=1),
    ]


def cold_lines(label: str, figures: dict[str, Any]) -> list[str]:
    calls, enforce = figures["median_enforce_calls"], figures["median_enforce_ms"]
    each = f", {enforce * 1000.0 / calls:.0f} us each" if calls else ""
    trials = len(figures["trials"])
    return [
        f"decision cache, {label}: {trials} trial{'s' if trials != 1 else ''}, each with a fresh "
        f"Authorizer() and app warmed by {OTHER_TENANT} staff (medians)",
        f"    Authorizer() construction        {figures['median_authorizer_init_ms']:9.2f} ms",
        f"    first request, cold decisions    {figures['median_cold_ms']:9.2f} ms   "
        f"({calls:.0f} Casbin enforce calls, {enforce:.2f} ms in enforce{each})",
        f"    same request, warm decisions     {figures['median_warm_ms']:9.2f} ms   "
        "(no enforce calls)",
        f"    cold - warm                      {figures['median_cold_minus_warm_ms']:9.2f} ms",
    ]


def profile_lines(label: str, report: dict[str, Any]) -> list[str]:
    profiled = report["profiled_ms_per_request"]
    lines = [
        f"profile, {label}: cProfile over {report['requests_profiled']} requests per app "
        "(main thread; profiling inflates per-call costs: compare, do not add up)",
        f"    profiled time per request: guarded {profiled[GUARDED]:.1f} ms, "
        f"unguarded {profiled[UNGUARDED]:.1f} ms",
        "    own time added per request, guarded - unguarded:",
        "       +ms      +calls  function",
    ]
    for item in report["largest_differences"]:
        lines.append(
            f"    {item['extra_own_ms_per_request']:6.2f}  {item['extra_calls_per_request']:10.0f}"
            f"  {item['function']}"
        )
    lines += [
        "    authorization functions in the guarded app, per request:",
        "    own ms    cum ms       calls  function",
    ]
    for item in report["guard_functions"]:
        lines.append(
            f"    {item['own_ms_per_request']:6.2f}  {item['cumulative_ms_per_request']:8.2f}"
            f"  {item['calls_per_request']:10.0f}  {item['function']}"
        )
    return lines
