"""A verifiable append-only log (RFC 9162 Merkle tree, C2SP checkpoints).

Owns the log tables (``tlog_*``): entries, the complete nodes of each log's tree and its
signed checkpoints. Other contexts append through :class:`service.TransparencyLog` in their
own unit of work; nothing here knows what an entry means. ``merkle.py`` and ``checkpoints.py``
are pure (no database, no clock): the verifier a consortium member runs needs only them.
"""
