"""Houqin benchmarks (not part of the application; see bench/README.md)."""
