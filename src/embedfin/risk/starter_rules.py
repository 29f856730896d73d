"""The rule set a tenant starts with (version 1), before its risk officers change anything.

Each rule names the pattern it is for (issue 13's fraud patterns) and keeps good customers out:
thresholds sit well above what an ordinary buyer does in a window (the simulator's good buyers
place a few orders a day from one or two devices). Risk officers replace, retire or add rules as
new versions (``RiskRules``); these are only where a new tenant begins.
"""

from __future__ import annotations

from embedfin.risk.decision import Action
from embedfin.risk.rules import Rule, RuleMode, RuleSet

OWNER = "risk-operations"

_RULES = (
    (
        "card-testing-device",
        "card_testing",
        "many payment tokens or declines from one device in a short time (card testing)",
        Action.BLOCK,
        "device_tokens_24h >= 4 or device_declines_1h >= 3",
    ),
    (
        "declines-in-a-row",
        "declines_in_a_row",
        "three or more declined attempts in a row: trial and error with a stolen card",
        Action.CHALLENGE,
        "declines_in_a_row >= 3",
    ),
    (
        "token-declines",
        "token_declines",
        "a payment token declined repeatedly in a day",
        Action.BLOCK,
        "token_declines_24h >= 5",
    ),
    (
        "shared-token",
        "shared_token",
        "one card used by three or more accounts in a week (stolen card passed around)",
        Action.REVIEW,
        "token_accounts_7d >= 3",
    ),
    (
        "new-card-new-device-large",
        "new_card_new_device",
        "a large order on a card and a device this buyer never used (stolen card, taken-over"
        " account)",
        Action.CHALLENGE,
        "card_new_for_buyer and device_new_for_buyer and amount_to_buyer_median >= 5",
    ),
    (
        "multi-accounting-device",
        "multi_accounting",
        "four or more accounts on one device in a week (multi-accounting, promo abuse)",
        Action.REVIEW,
        "device_accounts_7d >= 4",
    ),
    (
        "multi-accounting-address",
        "shared_address",
        "five or more accounts shipping to one address in a week",
        Action.REVIEW,
        "address_accounts_7d >= 5",
    ),
    (
        "ato-withdrawal",
        "account_takeover_withdrawal",
        "a withdrawal from a device the buyer never used (account takeover cashing out)",
        Action.REVIEW,
        "kind == 'withdrawal' and device_new_for_buyer and buyer_devices_7d >= 2",
    ),
    (
        "credit-cash-out",
        "credit_cash_out",
        "cash out within a day of purchases on credit (fake orders on a credit limit)",
        Action.REVIEW,
        "kind == 'withdrawal' and cash_out_after_credit_24h",
    ),
    (
        "shared-payout-account",
        "shared_payout_account",
        "a payout to a bank account another merchant is paid into (a collusion ring)",
        Action.REVIEW,
        "kind == 'payout' and payout_account_merchants >= 2",
    ),
    (
        "self-purchase",
        "self_purchase",
        "the buyer shares a device or address with the merchant (fake orders)",
        Action.REVIEW,
        "self_purchase",
    ),
    (
        "wallet-cycling",
        "wallet_cycling",
        "money topped up and withdrawn again, repeatedly (passing money through)",
        Action.REVIEW,
        "kind == 'withdrawal' and wallet_cycles_7d >= 2",
    ),
    (
        "serial-refunder",
        "refund_abuse",
        "three or more refunds to the buyer in a week: a serial refunder keeping the goods",
        Action.REVIEW,
        "kind == 'checkout' and buyer_refunds_7d >= 3",
    ),
    (
        "buyer-velocity",
        "velocity_buyer",
        "a burst of orders by one buyer within the hour",
        Action.CHALLENGE,
        "buyer_orders_1h >= 10",
    ),
)


def starter_rule_set() -> RuleSet:
    """Version 1 of a new tenant's rules, all live."""
    return RuleSet(
        1,
        tuple(
            Rule(rule_id, 1, OWNER, code, text, action, expression, RuleMode.LIVE)
            for rule_id, code, text, action, expression in _RULES
        ),
    )
