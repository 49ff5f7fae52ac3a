"""Fixtures shared by the test modules: the throwaway PostgreSQL and the two-store `ledger`."""

from tests.postgres import ledger, postgres_cluster, postgres_url

__all__ = ["ledger", "postgres_cluster", "postgres_url"]
