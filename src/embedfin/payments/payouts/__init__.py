"""Paying merchants out: settlement of released funds (``settlement``), batched payouts to
bank accounts (``batches``) and the safeguarding of customer funds (``safeguarding``).
"""
