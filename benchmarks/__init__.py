"""Concerto benchmarks: network generator, disruption scenarios, runners and reports."""
