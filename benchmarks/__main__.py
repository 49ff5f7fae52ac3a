"""`python -m benchmarks`: Concerto's benchmarks. Benchmarks print figures and ratios measured in
one run and write them as JSON; they assert nothing about wall-clock time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.build import BuildCase, run_build_benchmark


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="vectorized builder vs Pyomo twin, hand-off, solve, end-to-end, memory")
    p.add_argument("--sizes", default="S,M,L", help="comma-separated sizes (default S,M,L)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported (L runs once)")
    p.add_argument("--time-limit", type=float, default=60.0, help="HiGHS time limit per solve, seconds")
    p.add_argument("--gap", type=float, default=0.01, help="relative MIP gap (default 1%%)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-pyomo", action="store_true", help="skip the Pyomo twin")
    p.add_argument("--out", type=Path, default=Path("bench-results/build.json"))
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
            )
            for size in args.sizes.split(",")
        ]
        run_build_benchmark(cases, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
