"""Reproducers of the failures the fuzz suite found, as plain data: each entry is an RPC, what goes
wrong today and the `Case` that builds its request (seed request of `benchmarks.fuzz.seed_requests`
plus field mutations). `tests/test_fuzz.py` replays every one against a real server with the fuzz
oracle; each must pass once the request limits and honest status codes of issue #14 are in.

Signal positions in the seeds: Solve, SolveStream, ValidateNetwork and inline ExportModel carry
[S1-down (supplier outage), L1-slow (lane disruption), L2-late (lead-time change), C-surge (demand
change)]; Replan and ReplanStream carry [L1-slow, L2-late, C-surge].
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.fuzz import Case, Mutation


@dataclass(frozen=True)
class Regression:
    rpc: str
    description: str
    case: Case

    @property
    def id(self) -> str:
        return f"{self.rpc}:{self.case.describe().split(': ', 1)[1][:60]}"


def _set(rpc: str, path: tuple[str | int, ...], value: object, seed: int = 0) -> Case:
    return Case(rpc, seed, (Mutation(path, "set", value),))


HUGE = 1e300

REGRESSIONS: tuple[Regression, ...] = (
    # delay_hours of +-1e300 (or 1e308) on a lane disruption or lead-time change: "Python int too
    # large to convert to C long" escapes as UNKNOWN before anything is validated.
    Regression(
        "Solve",
        "delay_hours 1e300 on a lead-time change -> UNKNOWN 'Python int too large to convert to C long'",
        _set("Solve", ("signals", 2, "delay_hours"), HUGE),
    ),
    Regression(
        "Solve",
        "delay_hours 1e300 on a lane disruption -> UNKNOWN (-1e300 there is INVALID_ARGUMENT, rightly)",
        _set("Solve", ("signals", 1, "delay_hours"), HUGE),
    ),
    Regression(
        "ValidateNetwork",
        "delay_hours 1e300 -> UNKNOWN (ValidateNetwork should list it as a violation)",
        _set("ValidateNetwork", ("signals", 2, "delay_hours"), HUGE),
    ),
    Regression(
        "Replan",
        "delay_hours -1e308 on a lead-time change -> UNKNOWN",
        _set("Replan", ("signals", 1, "delay_hours"), -1e308),
    ),
    Regression(
        "ExportModel",
        "inline delay_hours 1e300 -> UNKNOWN",
        _set("ExportModel", ("inline", "signals", 2, "delay_hours"), HUGE),
    ),
    # detected_hours 1e308 passes validation; the worker's int conversion fails (INTERNAL), the
    # export (in the server) fails with UNKNOWN.
    Regression(
        "Solve",
        "detected_hours 1e308 -> INTERNAL 'the solver worker raised builtins.OverflowError'",
        _set("Solve", ("signals", 0, "detected_hours"), 1e308),
    ),
    Regression(
        "ExportModel",
        "inline detected_hours 1e308 -> UNKNOWN 'Python int too large to convert to C long'",
        _set("ExportModel", ("inline", "signals", 0, "detected_hours"), 1e308),
    ),
    # Finite but huge magnitudes and costs reach HiGHS, which refuses the model: INTERNAL.
    Regression(
        "Replan",
        "demand-change magnitude 1e300 -> INTERNAL 'HiGHS rejected the model (passModel returned an error)'",
        _set("Replan", ("signals", 2, "magnitude"), HUGE),
    ),
    Regression(
        "SolveStream",
        "offer activation_cost 1e308 -> INTERNAL 'HiGHS rejected the model'",
        _set("SolveStream", ("network", "offers", 1, "activation_cost"), 1e308),
    ),
    Regression(
        "Solve",
        "authority rule escalation_delay_hours 1e308 -> INTERNAL 'the solver worker raised builtins.OverflowError'",
        _set("Solve", ("protocols", "authority_rules", 0, "escalation_delay_hours"), 1e308),
    ),
    Regression(
        "Solve",
        "demand quantity 1e308 -> INTERNAL 'HiGHS rejected the model'",
        _set("Solve", ("network", "demands", 0, "quantity", 1), 1e308),
    ),
    Regression(
        "Solve",
        "offer unit_cost 2^53 -> INTERNAL 'HiGHS rejected the model' (a finite cost HiGHS takes for infinite)",
        _set("Solve", ("network", "offers", 1, "unit_cost"), float(2**53)),
    ),
    Regression(
        "ExportModel",
        "inline authority rule hard_cap 2^53 -> UNKNOWN 'HiGHS rejected the model' (the export runs in the server)",
        _set("ExportModel", ("inline", "protocols", "authority_rules", 0, "hard_cap"), float(2**53)),
    ),
    Regression(
        "ExportModel",
        "stored network, signal detected_hours 1e308 -> UNKNOWN 'Python int too large to convert to C long'",
        _set("ExportModel", ("signals", 0, "detected_hours"), 1e308, seed=1),
    ),
    Regression(
        "ReplanStream",
        "settings.upstream_hops 2^31-1 with a 1 s time limit -> the stream ends at the 20 s deadline (hang)",
        _set("ReplanStream", ("settings", "upstream_hops"), 2**31 - 1),
    ),
    Regression(
        "ExportModel",
        "inline horizon 50,000 -> OK after 8 s, but Health.Check times out (2 s) meanwhile: the export "
        "runs in the server process (seen against a server in its own process, `python -m benchmarks "
        "fuzz`; in this test's in-process server the health checks still answer)",
        _set("ExportModel", ("inline", "network", "horizon"), 50_000),
    ),
    # upstream_hops = 2^31-1 with a 1 s time limit: no answer within the 20 s client deadline (the
    # reach computation before the solve is outside the time limit).
    Regression(
        "Replan",
        "settings.upstream_hops 2^31-1 with a 1 s time limit -> no answer within 20 s (hang)",
        _set("Replan", ("settings", "upstream_hops"), 2**31 - 1),
    ),
)
