"""Shared kernel: money, ids, the injected clock and the typed error hierarchy.

Owns no tables and performs no I/O.
"""
