"""``/v1/aml/…``: transaction monitoring and the reports it makes due.

Every route needs the ``risk:write`` scope (compliance officers and operators), like
screening's. The journal fills itself from the outbox (consumer ``aml-monitor``): large-value
reports (or CTRs) fall due on their own; ``POST /v1/aml/monitor`` runs every typology detector
over the journal's last days and opens an ``aml_alert`` case per new alert, decided in the risk
queue (``reject`` confirms it and makes a suspicious-transaction report due). A report is filed
once (``POST /v1/aml/reports/{id}/file``) and never changed; a correction is a new report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import RiskCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import v1_router
from embedfin.api.schemas.aml import (
    AlertOut,
    CorrectReportIn,
    FileReportIn,
    MonitorIn,
    MonitorOut,
    ReportOut,
    RulePackIn,
    RulePackOut,
)
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.compliance.aml import rulepacks
from embedfin.compliance.aml.monitor import StoredAlert
from embedfin.compliance.aml.reports import Report
from embedfin.compliance.aml.rulepacks import RulePack
from embedfin.core.errors import InvalidInput

router = v1_router()
RiskReader = Annotated[Principal, Depends(require(Scope.RISK))]


def _today(platform: Any) -> Any:
    return datetime.fromtimestamp(platform.ledger.clock.now_ns() // 1_000_000_000, UTC).date()


def report_body(r: Report, today: Any) -> dict[str, Any]:
    return ReportOut(
        id=r.report_id,
        kind=r.kind,  # type: ignore[arg-type]
        status=r.status,  # type: ignore[arg-type]
        subject=r.subject,
        rule_pack=r.pack_id,
        rule=r.rule_id,
        case=r.case_id,
        business_day=r.business_day,
        amount=format(r.amount.normalize(), "f"),
        currency=r.currency,
        transactions=list(r.transactions),
        reasons=list(r.reasons),
        due_on=r.due_on,
        working_days_left=r.days_left(today) if r.status == "due" else None,
        late=r.late(today),
        created=ts(r.created_at),
        filed=None if r.filed_at is None else ts(r.filed_at),
        filed_by=r.filed_by,
        digest=r.digest,
        corrects=r.corrects,
    ).model_dump(mode="json")


def alert_body(a: StoredAlert) -> dict[str, Any]:
    return AlertOut(
        id=a.alert_id,
        typology=a.typology,
        accounts=list(a.accounts),
        transactions=list(a.transactions),
        window_start=datetime.fromtimestamp(a.window_start, UTC),
        window_end=datetime.fromtimestamp(a.window_end, UTC),
        amount=format(a.amount, "f"),
        currency=a.currency,
        score=a.score,
        reasons=list(a.reasons),
        case=a.case_id,
        created=ts(a.created_at),
    ).model_dump(mode="json")


def pack_body(pack: RulePack) -> dict[str, Any]:
    return RulePackOut(
        id=pack.id,
        title=pack.title,
        report=pack.report,
        timezone=pack.timezone,
        calendar=pack.calendar,
        deadline=pack.deadline_text(),
        suspicious_report=None if pack.suspicious is None else pack.suspicious.report,
        rules=len(pack.rules),
        pack=pack.model_dump(mode="json"),
    ).model_dump(mode="json")


@router.get("/aml/reports", response_model=Page[ReportOut], tags=["aml"])
def list_reports(
    platform: PlatformDep,
    principal: RiskReader,
    limit: Limit = 20,
    status: Annotated[str | None, Query(pattern="^(due|filed)$")] = None,
    kind: Annotated[str | None, Query(pattern="^(large_value|suspicious|ctr|sar)$")] = None,
) -> Any:
    """Reports, due ones first by deadline."""
    reports = platform.tenant(principal.tenant).reports
    found = reports.list(status=status, kind=kind, limit=limit + 1)
    today = _today(platform)
    return {
        "object": "list",
        "data": [report_body(r, today) for r in found[:limit]],
        "has_more": len(found) > limit,
    }


@router.get("/aml/reports/{report_id}", response_model=ReportOut, tags=["aml"])
def get_report(report_id: str, platform: PlatformDep, principal: RiskReader) -> Any:
    report = platform.tenant(principal.tenant).reports.get(report_id)
    return report_body(report, _today(platform))


@router.get("/aml/reports/{report_id}/document", tags=["aml"])
def get_report_document(report_id: str, platform: PlatformDep, principal: RiskReader) -> Any:
    """The filed document (``embedfin.aml-report/1``), checked against its digest."""
    return platform.tenant(principal.tenant).reports.document(report_id)


@router.post("/aml/reports/{report_id}/file", response_model=ReportOut, tags=["aml"])
def file_report(report_id: str, body: FileReportIn, cmd: RiskCommand) -> Any:
    def effect() -> tuple[int, Body]:
        reports = cmd.platform.tenant(cmd.tenant).reports
        filed = reports.file(report_id, body.narrative, cmd.principal.key_id)
        cmd.audit("aml.report_file", report_id, {"digest": filed.digest})
        return 200, report_body(filed, _today(cmd.platform))

    return cmd.run(body.model_dump(), effect)


@router.post(
    "/aml/reports/{report_id}/corrections", status_code=201, response_model=ReportOut, tags=["aml"]
)
def correct_report(report_id: str, body: CorrectReportIn, cmd: RiskCommand) -> Any:
    """File a correction: a new report naming this one; this one stays as filed."""

    def effect() -> tuple[int, Body]:
        reports = cmd.platform.tenant(cmd.tenant).reports
        filed = reports.correct(report_id, body.narrative, body.reason, cmd.principal.key_id)
        cmd.audit("aml.report_correct", report_id, {"correction": filed.report_id})
        return 201, report_body(filed, _today(cmd.platform))

    return cmd.run(body.model_dump(), effect)


@router.get("/aml/alerts", response_model=Page[AlertOut], tags=["aml"])
def list_alerts(
    platform: PlatformDep,
    principal: RiskReader,
    limit: Limit = 20,
    typology: Annotated[str | None, Query(max_length=32)] = None,
) -> Any:
    found = platform.tenant(principal.tenant).monitoring.alerts(typology, limit=limit + 1)
    return {
        "object": "list",
        "data": [alert_body(a) for a in found[:limit]],
        "has_more": len(found) > limit,
    }


@router.post("/aml/monitor", response_model=MonitorOut, tags=["aml"])
def run_monitor(body: MonitorIn, cmd: RiskCommand) -> Any:
    """Every typology detector over the journal's last ``days`` days."""

    def effect() -> tuple[int, Body]:
        monitoring = cmd.platform.tenant(cmd.tenant).monitoring
        run = monitoring.scan(days=body.days, actor=cmd.principal.key_id)
        cmd.audit("aml.monitor_run", cmd.tenant, {"days": body.days, "new": run.new_alerts})
        out = {"transactions": run.transactions, "alerts": run.alerts,
               "new_alerts": run.new_alerts, "by_typology": run.by_typology,
               "seconds": run.seconds}  # fmt: skip
        return 200, MonitorOut.model_validate(out).model_dump(mode="json")

    return cmd.run(body.model_dump(), effect)


@router.get("/aml/rulepack", response_model=RulePackOut, tags=["aml"])
def get_rule_pack(platform: PlatformDep, principal: RiskReader) -> Any:
    return pack_body(platform.tenant(principal.tenant).monitoring.pack())


@router.put("/aml/rulepack", response_model=RulePackOut, tags=["aml"])
def set_rule_pack(body: RulePackIn, cmd: RiskCommand) -> Any:
    """The tenant's threshold pack: validated whole before it is used."""

    def effect() -> tuple[int, Body]:
        if (body.shipped is None) == (body.pack is None):
            raise InvalidInput("give exactly one of shipped or pack")
        pack = (
            rulepacks.load(body.shipped)
            if body.shipped is not None
            else rulepacks.parse(dict(body.pack or {}), "pack")
        )
        cmd.platform.tenant(cmd.tenant).monitoring.set_pack(pack, cmd.principal.key_id)
        cmd.audit("aml.rule_pack_set", pack.id, {"rules": len(pack.rules)})
        return 200, pack_body(pack)

    return cmd.run(body.model_dump(), effect)
