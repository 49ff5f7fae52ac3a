"""The service benchmark's arithmetic on hand-made results: replans per second is the median over
the rounds, and the 2-worker / 1-worker ratio compares those medians (timings are never asserted)."""

from __future__ import annotations

import pytest

from benchmarks.service import (
    SecuredResult,
    ServiceSettings,
    ThroughputCase,
    ThroughputResult,
    report,
    targets,
    throughput_ratio,
)


def result(workers: int, per_round: list[tuple[int, float]]) -> ThroughputResult:
    r = ThroughputResult(size="S", seed=0, input_sha256="", workers=workers, clients=8)
    r.rounds = [{"replans": n, "seconds": s, "replans_per_second": n / s} for n, s in per_round]
    r.replans = sum(n for n, _ in per_round)
    r.seconds = sum(s for _, s in per_round)
    return r


def test_replans_per_second_is_the_median_round_and_the_ratio_compares_medians() -> None:
    """1 worker: 80 replans in 10, 16 and 12.5 s -> 8, 5 and 6.4 a second, median 6.4 (all
    replans over all seconds would give 240 / 38.5 = 6.23). 2 workers: 80 in 8, 5 and 6.4 s -> 10,
    16 and 12.5, median 12.5. Ratio 12.5 / 6.4 = 1.953; round by round 1.25, 3.2 and 1.953."""
    one = result(1, [(80, 10.0), (80, 16.0), (80, 12.5)])
    two = result(2, [(80, 8.0), (80, 5.0), (80, 6.4)])
    assert one.replans_per_second == pytest.approx(6.4)
    assert two.replans_per_second == pytest.approx(12.5)
    assert throughput_ratio([one, two]) == pytest.approx(12.5 / 6.4)
    text = report([], [one, two], ServiceSettings(), ThroughputCase())
    assert "2 workers / 1 worker: 1.95x" in text
    assert "round by round 1.25x, 3.20x, 1.95x" in text


def test_without_rounds_replans_per_second_is_all_over_all_and_a_missing_count_gives_no_ratio() -> None:
    """A result with no rounds: 90 replans in 12 s is 7.5 a second; with one worker count only
    there is no ratio."""
    r = ThroughputResult(size="S", seed=0, input_sha256="", workers=1, clients=8, replans=90, seconds=12.0)
    assert r.replans_per_second == pytest.approx(7.5)
    assert throughput_ratio([r]) is None


def test_the_secured_comparison_reports_the_ratio_of_medians_the_median_difference_and_the_target() -> None:
    """Plain 300 ms, secured 309 ms (medians): 1.030x, +3.0%, under the 5% target; the rounds'
    differences +12, +6 and +9 ms have the median +9 ms. A skipped comparison says why and sets no target."""
    r = SecuredResult(size="S", seed=0, input_sha256="", rounds=3, plain_wall=0.300, secured_wall=0.309)
    r.difference, r.round_ratio, r.gate_cpu, r.gate_calls = 0.009, 1.03, 0.00012, 3
    r.runs = [{"server": name, "round": k} for k in range(3) for name in ("plain", "secured")]
    assert r.ratio == pytest.approx(1.03)
    assert r.overhead_share == pytest.approx(0.03)
    text = report([], [], ServiceSettings(), None, r)
    assert "secured / plain: 1.030x wall (+3.0%; round by round median 1.030x), difference +9.0 ms" in text
    assert "| TLS + token | 3 | 309.0 |" in text
    assert "0.120 |" in text
    (row,) = targets([], [], r)
    assert row["met"] and row["figure"] == "1.030x (+3.0%, +9.0 ms)"
    skipped = SecuredResult(size="S", seed=0, input_sha256="", skipped="no cryptography")
    assert "TLS + authentication at S: skipped, no cryptography" in report([], [], ServiceSettings(), None, skipped)
    assert targets([], [], skipped) == []
