"""The shape docs/architecture.md promises: no import cycles, pure domain modules, one
composition root, no package-level side effects."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Domain rules: values in, decisions out — no database, network, clock or environment.
PURE = [
    "embedfin.commerce.orders",
    "embedfin.commerce.categories",
    "embedfin.api.webhook_targets",
    "embedfin.payments.refunds.policy",
    "embedfin.payments.fees",
    "embedfin.payments.wallet_records",
    "embedfin.lending.apr",
    "embedfin.lending.schedules",
    "embedfin.lending.loans",
    "embedfin.credit.decisions",
    "embedfin.ledger.engine",
    "embedfin.ledger.validation",
    "embedfin.ledger.batch_state",
    "embedfin.ledger.pending",
    "embedfin.ledger.chart",
    "embedfin.ledger.types",
    "embedfin.core.money",
    "embedfin.core.errors",
    "embedfin.core.countries",
    "embedfin.security.audit_chain",
    "embedfin.risk.decision",
    "embedfin.risk.features",
    "embedfin.risk.feature_types",
    "embedfin.risk.text",
    "embedfin.risk.rules_lang",
    "embedfin.risk.rules_closures",
    "embedfin.risk.rules",
    "embedfin.risk.backtest",
    "embedfin.risk.signals",
    "embedfin.risk.gate",
    "embedfin.risk.starter_rules",
    "embedfin.compliance.aml.alerts",
    "embedfin.compliance.aml.names",
    "embedfin.compliance.aml.screening",
    "embedfin.compliance.aml.evaluation",
    "embedfin.compliance.aml.journal",
    "embedfin.compliance.aml.sameday",
    "embedfin.compliance.aml.incremental",
    "embedfin.compliance.aml.workdays",
    "embedfin.compliance.aml.report_document",
    "embedfin.transparency.merkle",
    "embedfin.transparency.checkpoints",
    "embedfin.scf.certificates",
    "embedfin.scf.chart",
    "embedfin.scf.ids",
    "embedfin.scf.advances",
    "embedfin.scf.inventory",
    "embedfin.systemic.network",
    "embedfin.systemic.clearing",
    "embedfin.systemic.debtrank",
    "embedfin.systemic.exposures",
    "embedfin.systemic.scenarios",
    "embedfin.systemic.runs",
    "embedfin.fundpool.yields",
    "embedfin.fundpool.accrual",
    "embedfin.fundpool.redemption",
    "embedfin.fundpool.liquidity",
    "embedfin.fundpool.membership",
    "embedfin.fundpool.chart",
]
CONTEXTS = (
    "core", "db", "ledger", "commerce", "payments", "credit", "lending", "security", "risk",
    "compliance", "transparency", "scf", "systemic", "fundpool",
)  # fmt: skip
IO = ("sqlalchemy", "psycopg", "httpx", "fastapi", "starlette", "socket", "time", "os")


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in SRC.rglob("*.py")}


def _imports(name: str) -> Iterator[str]:
    """Every module ``name`` imports, type-checking-only imports included."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    return {name: {m for m in _imports(name) if m in MODULES and m != name} for name in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_round_a_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", PURE)
def test_domain_modules_do_no_io(name: str) -> None:
    imported = {m.split(".")[0] for m in _imports(name)}
    assert imported.isdisjoint(IO), f"{name} imports {sorted(imported & set(IO))}"
    assert not any(m.startswith(("embedfin.db", "embedfin.api")) for m in _imports(name))


def test_only_the_edges_import_the_composition_root() -> None:
    edges = ("embedfin.api", "embedfin.cli", "embedfin.dashboard", "embedfin.sim", "embedfin.bench")
    importers = {
        name
        for name in MODULES
        if "embedfin.bootstrap" in set(_imports(name)) and name != "embedfin.bootstrap"
    }
    inside = {n for n in importers if not n.startswith(edges) and n != "embedfin.demo"}
    assert inside == set()


def test_package_inits_import_nothing_for_its_side_effects() -> None:
    """A context's ``__init__`` may re-export names; it imports nothing just to run it (the
    invariants and consumers are listed in the composition root instead)."""
    for context in CONTEXTS:
        name = f"embedfin.{context}"
        for node in ast.parse(MODULES[name].read_text()).body:
            if isinstance(node, ast.Import):
                pytest.fail(f"{name} imports {[a.name for a in node.names]} for its effect")
            if isinstance(node, ast.ImportFrom):
                hidden = [a.asname for a in node.names if (a.asname or "").startswith("_")]
                assert not hidden, f"{name} imports {hidden} for its effect"


#: module context → the table owners whose tables it may import
OWN_TABLES = {
    "ledger": {"ledger"},
    "db": {"outbox", "ledger"},
    "consumers": {"outbox"},
    "commerce": {"commerce"},
    "payments": {"payments"},
    "lending": {"lending"},
    "credit": {"credit"},
    "api": {"api"},
    "security": {"security"},
    "dashboard": {"dashboard"},
    "risk": {"risk"},
    "compliance": {"compliance"},
    "transparency": {"transparency"},
    "scf": {"scf"},
    "fundpool": {"fundpool"},
}
#: read models and maintenance jobs that read (or re-encrypt) across owners, by name
ACROSS = {
    "embedfin.dashboard.queries": "the dashboard's read models (reads only)",
    "embedfin.bench": "benchmarks measure what the services wrote",
    "embedfin.security.rotation": "re-encrypts every context's encrypted fields with a new key",
    "embedfin.api.webhooks": "the webhook fan-out reads the outbox it delivers",
    "embedfin.api.app": "/healthz reads one row to prove the schema is there",
}


def test_each_context_imports_only_the_tables_it_owns() -> None:
    from embedfin.db.tables import OWNERS

    owner_of = {table: owner for owner, tables in OWNERS.items() for table in tables}
    wrong = []
    for name in MODULES:
        if name.startswith(("embedfin.db.tables", *ACROSS)) or name.count(".") < 1:
            continue
        allowed = OWN_TABLES.get(name.split(".")[1], set())
        for imported in _imports(name):
            table = imported.removeprefix("embedfin.db.tables.")
            owner = owner_of.get(table) if imported.startswith("embedfin.db.tables.") else None
            if owner is not None and owner not in allowed:
                wrong.append(f"{name} uses {owner}'s {table}")
    assert wrong == []
