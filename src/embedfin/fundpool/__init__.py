"""The fund pool: a money-market-style balance product (issue 16, seed §1.3).

Owns the ``fundpool_*`` tables and the ledger block of the fund's own books (``chart.py``):
units at a stable 1.00, the daily income accrued to every holder, redemptions (T+1, and T+0
advanced by a funded liquidity facility within the daily cap), the portfolio of bank cash,
term deposits and short bonds or repos, and the liquidity ratios. The fund's money is never
client reserve money: a subscription takes money out of the buyer's wallet and out of the
client reserve, a redemption brings it back, and no fund account is in the safeguarding
equation (``payments/payouts/safeguarding.py``).

Pure rules in their own modules: ``yields.py`` (the CSRC disclosure figures), ``accrual.py``
(income to holders, the fraction carried), ``redemption.py`` (the T+0 cap, the liquidity fee),
``liquidity.py`` (SEC Rule 2a-7's daily and weekly liquid assets), ``membership.py`` (tiers and
fee waivers, never tied to credit), ``chart.py``. It moves money only through ledger transfers
with its own codes and never writes another context's tables.
"""
