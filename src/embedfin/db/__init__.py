"""Storage plumbing: engine factory, table definitions and Alembic migrations.

Owns no business rules. Each package's tables are defined here in one metadata so that one
migration history covers the whole database; only the owning package writes to its tables.
"""
