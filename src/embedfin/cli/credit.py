"""``embedfin credit``: train, validate, list and promote models; features and pre-approval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from embedfin.cli.common import DbOption, JsonOption, TenantOption, err, out, print_figures
from embedfin.db.migrate import open_existing
from embedfin.ledger.service import Ledger

if TYPE_CHECKING:
    from embedfin.credit.service import CreditService
    from embedfin.credit.training import TrainedModels

app = typer.Typer(no_args_is_help=True, help="Credit models: training and validation.")

MODEL_COLUMNS = ("model_id", "status", "window", "auc", "ks")

TargetOption = Annotated[str | None, typer.Option(help="The target column of --csv.")]
BadValueOption = Annotated[
    str | None,
    typer.Option(
        help="The target's value for a bad outcome, compared as a number when both are numbers "
        "(else the target must be 0/1, 1 = bad). Rows with a blank target are refused."
    ),
]
CategoricalOption = Annotated[
    list[str] | None,
    typer.Option(
        "--categorical",
        help="A column of codes to treat as categories (repeat for more); text columns are.",
    ),
]


@app.command("evaluate")
def credit_evaluate(
    dataset: Annotated[
        str | None, typer.Option(help="A shipped dataset: german (Statlog German credit).")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Any tabular dataset with a binary target.")
    ] = None,
    target: TargetOption = None,
    bad_value: BadValueOption = None,
    categorical: CategoricalOption = None,
    folds: Annotated[int, typer.Option(min=2, max=20)] = 5,
    seed: Annotated[int, typer.Option()] = 42,
    as_json: JsonOption = False,
) -> None:
    """Scorecard and challenger under stratified k-fold CV, with a one-hot LR baseline."""
    from embedfin.credit.evaluate import evaluate, german
    from embedfin.credit.tables import load_csv

    if (dataset is None) == (csv is None):
        raise typer.BadParameter("give either --dataset or --csv")
    if dataset is not None:
        if dataset != "german":
            raise typer.BadParameter("the shipped dataset is: german")
        X, y = german()
        name = "german"
    else:
        assert csv is not None
        if target is None:
            raise typer.BadParameter("--csv needs --target")
        X, y = load_csv(csv, target, bad_value, categorical or ())
        name = csv.name
    err.print(f"evaluating on {name}: {len(X)} rows, {folds}-fold CV, seed {seed} …")
    print_figures(f"credit evaluate ({name})", evaluate(X, y, name, folds, seed), as_json)


@app.command("train")
def credit_train(
    db: DbOption = None,
    synthetic: Annotated[
        int | None, typer.Option(help="Train on N seeded synthetic buyers (before loan data).")
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="A table of features with a target.")] = None,
    target: TargetOption = None,
    bad_value: BadValueOption = None,
    categorical: CategoricalOption = None,
    window: Annotated[str, typer.Option(help="The data window, for the registry.")] = "synthetic",
    seed: Annotated[int, typer.Option()] = 42,
    as_json: JsonOption = False,
) -> None:
    """Train a scorecard and its gradient-boosting challenger, validate both on a 30% holdout,
    register both (the scorecard is champion if none is; promote either later)."""
    from embedfin.credit.synthetic import buyers
    from embedfin.credit.tables import load_csv
    from embedfin.credit.training import fit_models, register_models

    if (synthetic is None) == (csv is None):
        raise typer.BadParameter("give either --synthetic N or --csv FILE --target COL")
    if csv is not None:
        if target is None:
            raise typer.BadParameter("--csv needs --target")
        X, y = load_csv(csv, target, bad_value, categorical or ())
    else:
        assert synthetic is not None
        X, y = buyers(synthetic, seed)
    fitted = fit_models(X, y, seed)
    figures = _training_figures(register_models(Ledger.open(db), fitted, data_window=window))
    if as_json:
        out.print_json(json.dumps(figures))
    else:
        for key, value in figures.items():
            out.print(f"{key:10} {value}")


def _training_figures(trained: TrainedModels) -> dict[str, object]:
    return {
        "model_id": trained.scorecard.model_id,
        "status": trained.scorecard.status,
        "sha256": trained.scorecard.sha256,
        **trained.scorecard_metrics,
        "challenger_id": trained.challenger.model_id,
        "challenger_auc": trained.challenger_metrics["auc"],
    }


@app.command("models")
def credit_models(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The registered models, newest first."""
    from embedfin.credit import registry

    with open_existing(db).connect() as conn:
        models = registry.list_models(conn)
    rows = [
        {"model_id": m.model_id, "status": m.status, "window": m.data_window, **m.metrics}
        for m in models
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title="credit models")
    for column in MODEL_COLUMNS:
        table.add_column(column)
    for r in rows:
        table.add_row(*(str(r.get(c, "")) for c in MODEL_COLUMNS))
    out.print(table)


@app.command("promote")
def credit_promote(model_id: str, db: DbOption = None) -> None:
    """Make a registered model the champion (the previous one becomes a challenger)."""
    from embedfin.credit import registry

    with open_existing(db).begin() as conn:
        registry.promote(conn, model_id)
    out.print(f"{model_id} is the champion")


def _credit_service(db: str | None, tenant: str, jurisdiction: str) -> CreditService:
    from embedfin.bootstrap import Services
    from embedfin.lending.products import JURISDICTIONS

    if jurisdiction not in JURISDICTIONS:
        raise typer.BadParameter(f"jurisdiction must be one of {sorted(JURISDICTIONS)}")
    services = Services(Ledger.open(db), jurisdiction=jurisdiction).tenant(tenant)
    return services.credit


@app.command("features")
def credit_features(
    tenant: TenantOption,
    db: DbOption = None,
    csv: Annotated[Path | None, typer.Option(help="Write the features table here.")] = None,
) -> None:
    """Every buyer's features now (batch, point-in-time), from the outbox."""
    from embedfin.credit.training import feature_table

    service = _credit_service(db, tenant, "CN")
    frame = feature_table(service.pipeline, tenant, service.lending.clock.now_ns())
    if csv is not None:
        frame.to_csv(csv, index=False)
        out.print(f"{len(frame)} buyers → {csv}")
    else:
        out.print(frame.to_string(index=False) if len(frame) else "no buyers yet")


@app.command("preapprove")
def credit_preapprove(
    tenant: TenantOption,
    db: DbOption = None,
    currency_code: Annotated[str, typer.Option("--currency")] = "EUR",
    jurisdiction: Annotated[str, typer.Option()] = "CN",
    as_json: JsonOption = False,
) -> None:
    """Recompute every buyer's pre-approved limit with the champion model."""
    service = _credit_service(db, tenant, jurisdiction)
    limits = service.preapprove(currency_code)
    approved = sum(1 for v in limits.values() if v > 0)
    figures = {"buyers": len(limits), "approved": approved, "model_id": service.model.version}
    if as_json:
        out.print(json.dumps(figures))
    else:
        out.print(f"{approved} of {len(limits)} buyers pre-approved ({service.model.version})")
