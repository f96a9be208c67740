"""Benchmarks: load generators that print their figures (`make bench`)."""
