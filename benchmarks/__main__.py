"""`python -m benchmarks`: Concerto's benchmarks. Benchmarks print figures and ratios measured in
one run and write them as JSON; they assert nothing about wall-clock time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.build import BuildCase, run_build_benchmark
from benchmarks.inbox import DEFAULT_INBOX_ROUNDS
from benchmarks.replan import DEFAULT_REPEATS as REPLAN_REPEATS
from benchmarks.replan import ReplanSettings, run_replan_benchmark
from benchmarks.service import (
    DEFAULT_REPEATS,
    LatencyCase,
    SecuredCase,
    ServiceSettings,
    ThroughputCase,
    run_service_benchmark,
)
from benchmarks.suite import SUITE_COMMANDS, add_suite_commands, run_suite_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="vectorized builder vs Pyomo twin, hand-off, solve, end-to-end, memory")
    p.add_argument("--sizes", default="S,M,L", help="comma-separated sizes (default S,M,L)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported (L runs once)")
    p.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds per solve (the gap at 60 s is reported too)"
    )
    p.add_argument("--gap", type=float, default=0.01, help="relative MIP gap (default 1%%)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--method", default="auto", choices=("auto", "milp", "lp_first"), help="how each plan is solved (default auto)"
    )
    p.add_argument("--no-pyomo", action="store_true", help="skip the Pyomo twin")
    p.add_argument("--out", type=Path, default=Path("bench-results/build.json"))
    q = sub.add_parser(
        "service", help="replan latency through the gRPC service vs HiGHS's solve; throughput with 1 and 2 workers"
    )
    q.add_argument("--sizes", default="S,M", help="comma-separated sizes for the latency part (default S,M)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument(
        "--repeat", type=int, default=None, help="replans per size; medians are reported (default: S 20, M 3, others 1)"
    )
    q.add_argument("--clients", type=int, default=8, help="concurrent client threads in the throughput part")
    q.add_argument("--replans-per-client", type=int, default=10)
    q.add_argument("--rounds", type=int, default=3, help="timed batches per worker count, alternating; medians")
    q.add_argument(
        "--retry-sleep", type=float, default=0.02, help="seconds before retrying a refused replan (default 0.02)"
    )
    q.add_argument("--no-throughput", action="store_true", help="skip the throughput part")
    q.add_argument(
        "--store",
        default=None,
        help="a PostgreSQL database (postgresql://...): also measure the replan on it against SQLite, and 2 replicas "
        "against 1 on it, at S (the database should be empty)",
    )
    q.add_argument("--replica-rounds", type=int, default=5, help="alternating rounds of the --store measurements")
    q.add_argument(
        "--no-secured",
        action="store_true",
        help="skip the TLS + authentication vs plain comparison (run at S when S is among --sizes, "
        "as many rounds as S replans)",
    )
    q.add_argument(
        "--inbox-rounds",
        type=int,
        default=None,
        help="rounds of PublishSignals -> automatic plan versions at a watcher per size (default S 10, M 2; 0 skips)",
    )
    q.add_argument("--time-limit", type=float, default=60.0, help="HiGHS time limit per solve, seconds")
    q.add_argument("--gap", type=float, default=0.01, help="relative MIP gap (default 1%%)")
    q.add_argument(
        "--threads", type=int, default=1, help="HiGHS threads per solve (default 1: two workers on two cores)"
    )
    q.add_argument("--out", type=Path, default=Path("bench-results/service.json"))
    r = sub.add_parser(
        "replan", help="cold solve vs replan's first (signal reach) and final answers per disruption; stability sweep"
    )
    r.add_argument("--sizes", default="S,M", help="comma-separated sizes (default S,M)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--repeat", type=int, default=None, help="runs per disruption; medians (default: S 3, M 1)")
    r.add_argument("--time-limit", type=float, default=300.0, help="HiGHS time limit per solve, seconds")
    r.add_argument("--gap", type=float, default=0.01, help="relative MIP gap (default 1%%)")
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--upstream-hops", type=int, default=None, help="upstream steps of the first answer's reach")
    r.add_argument(
        "--stability-weight",
        type=float,
        default=0.0,
        help="the replans' stability weight (default 0; a positive one needs --first-only or --no-cold)",
    )
    r.add_argument("--only", default="", help="comma-separated disruptions to run (default: all seven)")
    r.add_argument(
        "--method",
        default="auto",
        choices=("auto", "milp", "lp_first"),
        help="how the baseline and each full replan are solved (default auto); the cold solve is always the MILP",
    )
    r.add_argument(
        "--first-only",
        action="store_true",
        help="time only each disruption's first answer: no cold solve, no full replan (L: each takes minutes)",
    )
    r.add_argument(
        "--no-cold",
        action="store_true",
        help="skip the cold reference MILP (L: it does not finish) and time the replan's first and final answers",
    )
    r.add_argument("--sweep", action="store_true", help="also sweep the stability weight at S")
    r.add_argument("--sweep-gap", type=float, default=1e-3, help="relative MIP gap of the sweep (default 0.1%%)")
    r.add_argument("--out", type=Path, default=Path("bench-results/replan.json"))
    pf = sub.add_parser("portfolio", help="HiGHS and OR-Tools/SCIP alone and raced, each in a worker process")
    pf.add_argument("--sizes", default="S", help="comma-separated sizes (default S)")
    pf.add_argument("--seed", type=int, default=0)
    pf.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported")
    pf.add_argument("--time-limit", type=float, default=60.0, help="time limit per solve, seconds")
    pf.add_argument("--gap", type=float, default=0.01, help="relative MIP gap (default 1%%)")
    pf.add_argument("--threads", type=int, default=1)
    pf.add_argument("--out", type=Path, default=Path("bench-results/portfolio.json"))
    lim = sub.add_parser("limits", help="server CPU and call time to refuse requests over the request limits")
    lim.add_argument("--repeat", type=int, default=5, help="runs per request; medians are reported")
    lim.add_argument("--out", type=Path, default=Path("bench-results/limits.json"))
    v = sub.add_parser("validation", help="convert + validate time of long role chains, service targets, signals")
    v.add_argument("--cases", default="", help="comma-separated cases (default: all three)")
    v.add_argument("--n", type=int, default=None, help="base size n of every chosen case (default: the reported sizes)")
    v.add_argument("--factors", default="1,2,4", help="comma-separated multiples of n to time (default 1,2,4)")
    v.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported")
    v.add_argument("--out", type=Path, default=Path("bench-results/validation.json"))
    fz = sub.add_parser("fuzz", help="mutated requests against a real server: status codes, health, ledger writes")
    fz.add_argument("--cases", type=int, default=2000, help="fuzz cases (default 2000)")
    fz.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    fz.add_argument("--memory-limit-gib", type=float, default=6.0, help="address-space limit of the server process")
    fz.add_argument("--verbose", action="store_true", help="print every case, not only failing ones")
    fz.add_argument("--out", type=Path, default=Path("bench-results/fuzz.json"))
    cu = sub.add_parser(
        "cuts", help="backup-to-lane links on seeded CFLP instances: with, without, and a textbook model in highspy"
    )
    cu.add_argument("--instances", default="20x50,30x100,50x200", help="comma-separated SITESxCUSTOMERS")
    cu.add_argument("--seeds", default="0,1,2", help="comma-separated seeds per instance size")
    cu.add_argument(
        "--gap",
        type=float,
        default=None,
        help="relative MIP gap of every solve (default 0.01%%; with --suite the suite's 0.1%%)",
    )
    cu.add_argument("--time-limit", type=float, default=60.0, help="HiGHS time limit per solve, seconds")
    cu.add_argument("--single-source", action="store_true", help="every customer served by one site (assignment)")
    cu.add_argument("--capacity-ratio", type=float, default=3.0, help="total site capacity over total demand")
    cu.add_argument(
        "--suite",
        nargs="+",
        default=[],
        metavar="ci|full[@SIZES]|NAME[@SIZE]",
        help="measure the links on suite cases instead (as `run --suite`): the disrupted models without and with them",
    )
    cu.add_argument("--out", type=Path, default=Path("bench-results/cuts.json"))
    add_suite_commands(sub)
    args = parser.parse_args(argv)

    if args.command == "build":
        cases = [
            BuildCase(
                size=size,
                seed=args.seed,
                repeat=1 if size == "L" else args.repeat,
                time_limit=args.time_limit,
                mip_rel_gap=args.gap,
                threads=args.threads,
                pyomo=not args.no_pyomo,
                method=args.method,
            )
            for size in args.sizes.split(",")
        ]
        run_build_benchmark(cases, args.out)
    elif args.command == "service":
        settings = ServiceSettings(
            seed=args.seed, time_limit=args.time_limit, mip_rel_gap=args.gap, threads=args.threads
        )
        latency = [
            LatencyCase(
                size,
                args.repeat if args.repeat is not None else DEFAULT_REPEATS.get(size, 1),
                args.inbox_rounds if args.inbox_rounds is not None else DEFAULT_INBOX_ROUNDS.get(size, 0),
            )
            for size in args.sizes.split(",")
            if size
        ]
        throughput = (
            None
            if args.no_throughput
            else ThroughputCase(
                clients=args.clients,
                replans_per_client=args.replans_per_client,
                retry_sleep=args.retry_sleep,
                rounds=args.rounds,
            )
        )
        secured = next(
            (SecuredCase(case.size, case.repeat) for case in latency if case.size == "S" and not args.no_secured),
            None,
        )
        run_service_benchmark(
            latency,
            throughput,
            settings,
            args.out,
            secured,
            postgres_url=args.store,
            replica_rounds=args.replica_rounds,
        )
    elif args.command == "limits":
        from benchmarks.limits import run_limits_benchmark

        run_limits_benchmark(args.repeat, args.out)
    elif args.command == "portfolio":
        from benchmarks.portfolio import run_portfolio_benchmark

        run_portfolio_benchmark(
            args.sizes.split(","),
            seed=args.seed,
            repeat=args.repeat,
            time_limit=args.time_limit,
            gap=args.gap,
            threads=args.threads,
            out=args.out,
        )
    elif args.command == "replan":
        sizes = [size for size in args.sizes.split(",") if size]
        repeats = {size: args.repeat if args.repeat is not None else REPLAN_REPEATS.get(size, 1) for size in sizes}
        try:
            replan_settings = ReplanSettings(
                seed=args.seed,
                mip_rel_gap=args.gap,
                time_limit=args.time_limit,
                threads=args.threads,
                sweep_gap=args.sweep_gap,
                kinds=tuple(k for k in args.only.split(",") if k),
                method=args.method,
                first_only=args.first_only,
                no_cold=args.no_cold,
                stability_weight=args.stability_weight,
                **({"upstream_hops": args.upstream_hops} if args.upstream_hops is not None else {}),
            )
        except ValueError as error:
            parser.error(str(error))
        run_replan_benchmark(sizes, repeats, replan_settings, args.out, sweep=args.sweep)
    elif args.command == "validation":
        from benchmarks.validation import DEFAULT_SIZES, run_validation_benchmark

        chosen = [c for c in args.cases.split(",") if c] or list(DEFAULT_SIZES)
        unknown = sorted(set(chosen) - set(DEFAULT_SIZES))
        if unknown:
            parser.error(f"unknown validation case(s) {', '.join(unknown)}; choose from {', '.join(DEFAULT_SIZES)}")
        case_sizes = {c: args.n if args.n is not None else DEFAULT_SIZES[c] for c in chosen}
        factors = [int(f) for f in args.factors.split(",") if f]
        run_validation_benchmark(case_sizes, factors, args.repeat, args.out)
    elif args.command == "fuzz":
        from benchmarks.fuzz import run_fuzz

        report = run_fuzz(args.cases, args.seed, args.out, memory_limit_gib=args.memory_limit_gib, verbose=args.verbose)
        return 1 if report.failures else 0
    elif args.command == "cuts" and args.suite:
        from benchmarks.cuts import run_suite_cuts
        from benchmarks.suite.settings import DEFAULT_GAP

        gap = DEFAULT_GAP if args.gap is None else args.gap
        run_suite_cuts(args.suite, gap=gap, time_limit=args.time_limit, out=args.out)
    elif args.command == "cuts":
        from benchmarks.cuts import run_cuts_benchmark

        instances = [(int(a), int(b)) for a, b in (pair.split("x") for pair in args.instances.split(",") if pair)]
        seeds = [int(s) for s in args.seeds.split(",") if s]
        run_cuts_benchmark(
            instances,
            seeds,
            gap=1e-4 if args.gap is None else args.gap,
            time_limit=args.time_limit,
            single_source=args.single_source,
            capacity_ratio=args.capacity_ratio,
            out=args.out,
        )
    elif args.command in SUITE_COMMANDS:
        return run_suite_command(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
