"""Concerto's mathematics: the network, the MILP builder and its families, KPIs and the Pyomo twin.

Knows nothing of gRPC or storage; imports numpy and scipy (and Pyomo in `pyomo_model`).
"""
