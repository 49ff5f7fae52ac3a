"""Fixtures and settings shared by the test modules: the throwaway PostgreSQL and the two-store
`ledger` (tests/postgres.py), and the hypothesis profiles: CI draws the same examples on every run
(`CONCERTO_HYPOTHESIS_PROFILE=ci`, which .ci/run sets), so that a red CI is a change's doing;
elsewhere every run draws new examples, which is how a network that crashed HiGHS was found
(tests/highs_regressions.py)."""

from __future__ import annotations

import os

from hypothesis import settings

from tests.postgres import ledger, postgres_cluster, postgres_url

__all__ = ["ledger", "postgres_cluster", "postgres_url"]

settings.register_profile("ci", derandomize=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("CONCERTO_HYPOTHESIS_PROFILE", "dev"))
