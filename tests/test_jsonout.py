"""Benchmark reports are strict JSON: no bare NaN or Infinity ever reaches a file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.jsonout import strict, write_json
from models.signals import SignalType


def test_values_json_cannot_hold_are_spelled_out(tmp_path: Path) -> None:
    """NaN (no answer) is null, an infinity "inf"/"-inf", an enum its value, a tuple a list, at any
    depth; the file parses with a parser that refuses NaN and Infinity."""
    payload = {"gap": math.nan, "limits": (math.inf, -math.inf, 2.5), "kind": SignalType.SUPPLIER_OUTAGE}
    assert strict({"nested": [payload]}) == {
        "nested": [{"gap": None, "limits": ["inf", "-inf", 2.5], "kind": SignalType.SUPPLIER_OUTAGE.value}]
    }
    path = tmp_path / "out" / "report.json"
    write_json(path, payload)

    def refuse(name: str) -> None:
        pytest.fail(f"bare {name} in {path}")

    assert json.loads(path.read_text(), parse_constant=refuse)["gap"] is None
