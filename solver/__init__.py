"""Concerto runtime: the service, store, backends and command line."""
