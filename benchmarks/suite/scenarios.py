"""Scenario files (`benchmarks/scenarios/*.json`) and the cases a suite runs: reading them (unknown
fields, signal types and expectations are rejected), selecting cases by suite or name, and the
protocol set a scenario names.

A scenario file names a generated network (sizes and seed, and `calendars`: true to plan it against
`benchmarks.generator.with_calendars`, a maintenance shutdown at the plant with the most hours and
seasonal supplier allocations), a protocol set, signals whose targets are chosen by role and rank
(`benchmarks.suite.targets`) and expectations (`benchmarks.suite.expectations`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks.suite.expectations import EXPECTATIONS
from benchmarks.suite.settings import DEFAULT_GAP, case_gap
from models.network import NetworkSpec
from models.protocols import ProtocolSet
from models.signals import SignalType

SCENARIO_DIR = Path(__file__).parents[1] / "scenarios"
SUITES = ("ci", "full")
"""ci: every scenario at S. full: every scenario at every size it names."""


@dataclass(frozen=True)
class Scenario:
    """One scenario file, as written."""

    name: str
    description: str
    sizes: tuple[str, ...]
    seed: int
    protocols: str | None
    """Path of a protocol set (relative to the repository root), None for the bundled demo set,
    "" for no protocols."""
    signals: tuple[dict[str, Any], ...]
    expectations: dict[str, Any]
    path: Path = field(compare=False, default=Path())
    calendars: bool = False
    """Whether the generated network is planned against calendars (`generator.with_calendars`)."""


@dataclass(frozen=True)
class Case:
    """One scenario at one size: what a worker runs."""

    scenario: Scenario
    size: str
    threads: int = 1
    gap: float = DEFAULT_GAP
    time_limit: float = 300.0

    @property
    def key(self) -> str:
        return f"{self.scenario.name}@{self.size}"


SCENARIO_FIELDS = {"name", "description", "sizes", "seed", "calendars", "protocols", "signals", "expectations"}
SIGNAL_FIELDS = {
    "type",
    "target",
    "item",
    "detected_hours",
    "start_hours",
    "duration_hours",
    "magnitude",
    "hold_share",
    "delay_hours",
}


class ScenarioError(ValueError):
    """A scenario file that cannot be read or resolved; the message names the file and field."""


def load_scenario(path: Path) -> Scenario:
    """Read one scenario file, rejecting unknown fields, signal types and expectations."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ScenarioError(f"{path}: cannot read scenario ({err})") from err
    unknown = set(raw) - SCENARIO_FIELDS
    if unknown:
        raise ScenarioError(f"{path}: unknown fields {sorted(unknown)}; use {sorted(SCENARIO_FIELDS)}")
    for name in ("name", "sizes", "signals"):
        if name not in raw:
            raise ScenarioError(f"{path}: field {name!r} is required")
    for k, sig in enumerate(raw["signals"]):
        bad = set(sig) - SIGNAL_FIELDS
        if bad:
            raise ScenarioError(f"{path}: signals[{k}] has unknown fields {sorted(bad)}; use {sorted(SIGNAL_FIELDS)}")
        try:
            SignalType(sig.get("type"))
        except ValueError as err:
            kinds = [t.value for t in SignalType]
            raise ScenarioError(f"{path}: signals[{k}].type is {sig.get('type')!r}; use one of {kinds}") from err
        if "target" not in sig:
            raise ScenarioError(f"{path}: signals[{k}].target is required (e.g. 'tier1:0')")
    calendars = raw.get("calendars", False)
    if not isinstance(calendars, bool):
        raise ScenarioError(f"{path}: field 'calendars' is {calendars!r}; it must be true or false")
    expectations = dict(raw.get("expectations", {}))
    bad = set(expectations) - EXPECTATIONS
    if bad:
        raise ScenarioError(f"{path}: unknown expectations {sorted(bad)}; use {sorted(EXPECTATIONS)}")
    for key, value in expectations.items():
        if isinstance(value, dict) and not set(value) <= set(raw["sizes"]):
            raise ScenarioError(
                f"{path}: expectations.{key} names sizes {sorted(set(value) - set(raw['sizes']))} the scenario "
                f"does not run at; its sizes are {list(raw['sizes'])}"
            )
    return Scenario(
        name=str(raw["name"]),
        description=str(raw.get("description", "")),
        sizes=tuple(raw["sizes"]),
        seed=int(raw.get("seed", 0)),
        protocols=raw.get("protocols"),
        signals=tuple(raw["signals"]),
        expectations=expectations,
        path=path,
        calendars=calendars,
    )


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every scenario file of the directory, sorted by name."""
    scenarios = [load_scenario(p) for p in sorted(directory.glob("*.json"))]
    names = [s.name for s in scenarios]
    for name in names:
        if names.count(name) > 1:
            raise ScenarioError(f"{directory}: scenario name {name!r} is used twice")
    return sorted(scenarios, key=lambda s: s.name)


def select_cases(selection: Sequence[str], scenarios: Sequence[Scenario], **settings: Any) -> list[Case]:
    """The cases of a suite: "ci" (every scenario at S), "full" (every size each names),
    "full@S,M" (the same, only at the sizes listed: the full suite without its L cases), or
    scenario names, each optionally `NAME@SIZE` (default S). Each case is solved to the suite's
    gap, or to its size's own where that is wider (`settings.case_gap`: L at 1%)."""
    by_name = {s.name: s for s in scenarios}
    cases: list[Case] = []
    for token in selection:
        if token == "ci":
            cases += [Case(s, "S", **settings) for s in scenarios if "S" in s.sizes]
        elif token == "full" or token.startswith("full@"):
            only = set(token.partition("@")[2].split(",")) - {""}
            cases += [Case(s, size, **settings) for s in scenarios for size in s.sizes if not only or size in only]
        else:
            name, _, size = token.partition("@")
            if name not in by_name:
                raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(sorted(by_name))}, or ci, full")
            cases.append(Case(by_name[name], size or "S", **settings))
    return [replace(c, gap=case_gap(c.size, c.gap)) for c in {c.key: c for c in cases}.values()]


def scenario_network(scenario: Scenario, size: str) -> NetworkSpec:
    """The network a scenario runs on at `size`: generated from its seed, with calendars when it asks."""
    from benchmarks.generator import generate, with_calendars

    spec = generate(size, scenario.seed)
    return with_calendars(spec) if scenario.calendars else spec


def scenario_protocols(scenario: Scenario) -> ProtocolSet | None:
    from solver.convert import read_protocols
    from solver.demo import DEMO_PROTOCOLS, data_path

    if scenario.protocols == "":
        return None
    if scenario.protocols is None:
        return read_protocols(data_path(DEMO_PROTOCOLS))
    path = Path(scenario.protocols)
    return read_protocols(path if path.is_absolute() else Path(__file__).parents[2] / path)
