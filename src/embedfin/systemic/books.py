"""Reading a tenant's books for the exposure network: read-only, through the owners.

Accounts come from payments' registry (``payments.accounts.tenant_accounts``), their posted
balances from the ledger, and who is behind a loan, a certificate or an advance from lending's
and supply-chain finance's services. Nothing is written; ``exposures.py`` does the mapping.
"""

from __future__ import annotations

from dataclasses import replace

from embedfin.ledger.chart import NormalSide
from embedfin.ledger.service import Ledger
from embedfin.lending import chart as lending_chart
from embedfin.lending.servicing import Lending
from embedfin.payments import chart as payments_chart
from embedfin.payments.accounts import tenant_accounts
from embedfin.scf import chart as scf_chart
from embedfin.scf.orders import OrderFinancing
from embedfin.scf.service import Certificates
from embedfin.scf.stock import InventoryFinancing
from embedfin.systemic.exposures import Balance, Exposures, Links, exposures_of

#: The debit-normal account codes, from the charts of the contexts whose balances are read.
_DEBIT_NORMAL = frozenset(
    account.code
    for block in (payments_chart.BLOCK, lending_chart.BLOCK, scf_chart.BLOCK)
    for account in block.accounts
    if account.normal is NormalSide.DEBIT
)


def read_exposures(
    ledger: Ledger,
    tenant: str,
    lending: Lending,
    certificates: Certificates,
    orders: OrderFinancing,
    inventory: InventoryFinancing | None = None,
) -> Exposures:
    """The tenant's exposure network as its books stand now."""
    with ledger.current() as conn:
        keyed = tenant_accounts(conn, tenant)
    found = {a.id: a for a in ledger.lookup_accounts([k.account_id for k in keyed])}
    balances = []
    for key in keyed:
        account = found.get(key.account_id)
        if account is None:
            continue
        side = NormalSide.DEBIT if key.code in _DEBIT_NORMAL else NormalSide.CREDIT
        net = account.debits_posted - account.credits_posted
        balances.append(Balance(key.owner_kind, key.owner_id, key.code, key.currency,
                                net if side is NormalSide.DEBIT else -net))  # fmt: skip
    links = _links(balances, lending, certificates, orders)
    if inventory is not None:
        facilities = {f.facility_id: (f.distributor_id, f.funder_id)
                      for f in inventory.facilities(limit=100_000)}  # fmt: skip
        links = replace(links, facilities=facilities)
    return exposures_of(balances, links)


def _links(
    balances: list[Balance], lending: Lending, certificates: Certificates, orders: OrderFinancing
) -> Links:
    loans: dict[str, tuple[str, str]] = {}
    held: dict[str, tuple[str, str, str]] = {}
    advances: dict[str, tuple[str, str]] = {}
    for b in (b for b in balances if b.balance_minor > 0):
        if b.owner_kind == "loan" and b.owner_id not in loans:
            loan = lending.get(b.owner_id)
            loans[b.owner_id] = (loan.buyer_id, loan.funder_id)
        elif b.owner_kind == "certificate" and b.owner_id not in held:
            certificate = certificates.certificate(b.owner_id)
            core = certificates.payable(certificate.payable_id).core_id
            held[b.owner_id] = (core, certificate.holder_id, str(certificate.holder_role))
        elif b.owner_kind == "scf_order" and b.owner_id not in advances:
            order, advance = orders.order(b.owner_id), orders.advance_of(b.owner_id)
            if advance is not None:
                advances[b.owner_id] = (order.supplier_id, advance.funder_id)
    roles = {
        f"merchant:{party.party_id}": str(party.role)
        for party in certificates.parties()
        if str(party.role) in ("supplier", "core", "distributor")
    }
    return Links(loans, held, advances, roles)
