"""Every benchmark report and the baseline are written as strict JSON: this module owns how values
JSON cannot hold are spelled, so no report ever contains a bare NaN or Infinity."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any


def strict(value: Any) -> Any:
    """`value` with NaN (no answer) as null, an infinity as the string "inf" or "-inf", an enum as
    its value and a tuple as a list, all the way down."""
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if isinstance(value, enum.Enum):
        return strict(value.value)
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def write_json(
    path: Path, payload: Any, *, sort_keys: bool = False, default: Callable[[Any], Any] | None = None
) -> None:
    """Write `strict(payload)`, indented, with a trailing newline. `default` maps what JSON has no
    type for (as `json.dumps`'s); a NaN or infinity can never reach the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(strict(payload), indent=2, sort_keys=sort_keys, allow_nan=False, default=default)
    path.write_text(text + "\n")
