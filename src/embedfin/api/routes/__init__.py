"""The /v1 routes, one module per resource; ``router`` holds them all.

Routes are matched in the order they are included, so the hot paths come first. A POST route
takes a ``Command`` (``api/commands.py``) and runs its effect with ``cmd.run``; reads call the
owning service or store. Routes run no SQL of their own.
"""

from __future__ import annotations

from fastapi import APIRouter

from embedfin.api.routes import (
    after_sales,
    aml,
    aml_diligence,
    aml_monitoring,
    audit,
    checkouts,
    credit_decisions,
    credit_lines,
    customers,
    events,
    funders,
    fundpool,
    fx,
    keys,
    loans,
    logs,
    merchants,
    meta,
    order_actions,
    orders,
    public_logs,
    reconciliation,
    risk,
    scf,
    scf_batches,
    scf_documents,
    scf_inventory,
    settlement,
    stress,
    wallets,
    webhooks,
)

RESOURCES = (
    meta,
    checkouts,
    merchants,
    customers,
    wallets,
    orders,
    order_actions,
    after_sales,
    fx,
    keys,
    events,
    webhooks,
    settlement,
    reconciliation,
    audit,
    credit_decisions,
    risk,
    aml,
    aml_monitoring,
    aml_diligence,
    scf,
    scf_batches,
    scf_documents,
    scf_inventory,
    fundpool,
    stress,
    loans,
    credit_lines,
    funders,
    logs,
    public_logs,
)

router = APIRouter()
for resource in RESOURCES:
    router.include_router(resource.router)
