"""Benchmarks run by ``embedfin bench …``: each measures a baseline in the same run."""
