"""Risk: the silent fraud control that runs before money moves (seed §3.2, issue 13).

Owns fraud scoring (the rule set and, later, a model), the feature catalogue both may read,
rules as versioned data with their backtest, merchant risk, the cases a review opens and the
holds a case releases. Every money-moving operation (checkout, top-up, withdrawal, payout, card
authorisation, credit decision) asks it for a :class:`~embedfin.risk.decision.RiskDecision`.

It must not touch other contexts' tables or move money itself: a hold or a release is asked of
the payments services, and features are read from the outbox or from the owners' read models.

The pure core — ``decision``, ``features``, ``rules_lang``, ``rules``, ``backtest`` — takes
values and returns decisions: no database, clock or network.
"""
