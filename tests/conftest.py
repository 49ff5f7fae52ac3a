"""Hypothesis profiles: CI draws the same examples on every run (`CONCERTO_HYPOTHESIS_PROFILE=ci`,
which .ci/run sets), so that a red CI is a change's doing; elsewhere every run draws new examples,
which is how a network that crashed HiGHS was found (tests/highs_regressions.py)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("CONCERTO_HYPOTHESIS_PROFILE", "dev"))
