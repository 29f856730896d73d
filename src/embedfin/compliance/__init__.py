"""Compliance: anti-money laundering (``aml``) and, later, the reporting around it."""
