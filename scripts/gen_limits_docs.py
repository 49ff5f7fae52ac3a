"""Rewrite the request-limits table in README.md and the limits comment in service.proto from the
one declaration, `solver.limits.RequestLimits` (tests/test_limits.py fails while they disagree).

Usage: python scripts/gen_limits_docs.py   (then `python scripts/gen_proto.py`: comments do not
change the generated code, but the check keeps the two in step)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from solver.limits import RequestLimits  # noqa: E402

README = ROOT / "README.md"
PROTO = ROOT / "proto" / "concerto" / "v1" / "service.proto"
TABLE = re.compile(r"\| flag \| default \| what it bounds \|\n\|---\|---\|---\|\n(?:\|.*\n)+")
COMMENT = re.compile(r"(?://   --max-\S+ +\S+\n)+")


def main() -> int:
    described = RequestLimits.describe()
    rows = "".join(f"| `{flag}` | {default} | {what} |\n" for flag, default, what in described)
    table = "| flag | default | what it bounds |\n|---|---|---|\n" + rows
    comment = "".join(f"//   {flag:<32} {default:>19}\n" for flag, default, _ in described)
    for path, pattern, text in ((README, TABLE, table), (PROTO, COMMENT, comment)):
        old = path.read_text()
        if not pattern.search(old):
            print(f"{path.relative_to(ROOT)}: no limits table to rewrite", file=sys.stderr)
            return 1
        start, end = pattern.search(old).span()  # type: ignore[union-attr]
        path.write_text(old[:start] + text + old[end:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
