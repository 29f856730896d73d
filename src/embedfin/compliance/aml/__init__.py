"""Anti-money laundering: typology detection over transaction files and the platform's books.

``transactions`` loads and validates a file of transfers into DuckDB; ``detectors`` finds the
typologies in it (SQL, one query per typology, parameters in ``AmlParams``); ``scan`` runs them
and writes the alerts; ``generator`` makes seeded AMLSim-style data with ground truth and
``evaluation`` scores a scan against it.
"""
