"""Settings every part of the suite shares: the MIP gap of its solves, the round-off allowed when
comparing objectives, its three responses, and what counts as solved."""

from __future__ import annotations

DEFAULT_GAP = 0.001
"""Relative MIP gap of every solve in the suite. At M a 1% gap is about 770k on an objective of
-77M, as large as the value of orchestration the suite measures, and left the orchestrated plan
short of demand the sequential one served. At 0.1% the median M solve took 18.1 s against 10.8 s
at 1% (one run each, 2 cores)."""
GAP_TOLERANCE = 1e-6
"""Added to the MIP gap when comparing objectives, for round-off."""
RESPONSES = ("orchestrated", "sequential", "do_nothing")
"""The three ways every case answers its signals, in the order of the report."""
SOLVED_GAP = 0.01
"""A size counts as solved when every scenario's orchestrated plan is within this relative gap ..."""
SOLVED_SECONDS = 60.0
"""... and its solve took at most this many seconds (issue #6: "the largest size solved to 1% gap
within 60 s")."""
