"""The live dashboard (operator, merchant and storefront pages) served by the API app.

Owns the ``dashboard_sessions`` table (``sessions``). Everything else it only reads, through
its read model (``queries``) or the owning services; the storefront changes nothing but through
the public API.
"""
