"""The public verification page of a certificate: ``/dashboard/verify/certificates/{id}``
with the ``origin`` of the tenant's ``scf`` log — no sign-in.

It answers only when that log is public (it has a registered witness,
``transparency.witnesses.public_log``); any other origin, another log, or a certificate not in
that tenant is 404, the same answer as for something that does not exist. It shows the steps
of the certificate's lineage (issue, split, transfer, discount), each with its entry's index,
leaf hash and audit path against the latest signed checkpoint, checked here and again in the
browser (WebCrypto SHA-256, RFC 9162 §2.1.3.2). It shows no entry body and no amount; it
signs nothing and writes nothing (a step past the latest checkpoint says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from embedfin.api.platform import Platform
from embedfin.core.errors import EmbedfinError, NotFound
from embedfin.dashboard.logs import Checked, check_entry
from embedfin.dashboard.pages import PageError, page
from embedfin.scf.steps import LOG_ID
from embedfin.transparency.service import public_log

router = APIRouter()
Origin = Annotated[str, Query(min_length=1, max_length=200)]


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    on: str
    checked: Checked | None
    error: str | None


@router.get("/verify/certificates/{certificate_id}", response_class=HTMLResponse)
def verify_certificate_page(request: Request, certificate_id: str, origin: Origin) -> HTMLResponse:
    platform: Platform = request.app.state.platform
    unknown = PageError(404, f"no certificate {certificate_id} in a public log {origin}")
    try:
        tenant, log_id = public_log(platform.ledger, origin)
        if log_id != LOG_ID:
            raise unknown
        services = platform.tenant(tenant)
        lineage = [services.scf.certificate(certificate_id)]
        while lineage[-1].parent_id is not None:
            lineage.append(services.scf.certificate(lineage[-1].parent_id))
    except NotFound:
        raise unknown from None
    steps = []
    for held in reversed(lineage):
        event = services.scf.event(held.made_by)
        checked, error = None, None
        try:
            checked = check_entry(services.log, LOG_ID, event.log_index, bodies=False)
        except EmbedfinError as failure:
            error = f"{failure.code}: {failure.message}"
        steps.append(Step(event.kind, event.on_date.isoformat(), checked, error))
    head = services.log.latest_checkpoint(LOG_ID)
    return page(request, "verify_certificate.html", session=None, certificate_id=certificate_id,
                origin=origin, steps=steps, note=None if head is None else head.note,
                verifier=str(services.log.verifier))  # fmt: skip
