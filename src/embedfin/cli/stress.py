"""``embedfin stress``: contagion models on a network file; the exposure network of the books."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from embedfin.cli.common import DbOption, JsonOption, TenantOption, err, out
from embedfin.core.errors import InvalidInput

app = typer.Typer(no_args_is_help=True, help="Systemic risk: contagion models and stress tests.")

#: Networks up to this many nodes clear in exact fractions; larger ones in float64.
EXACT_MAX_NODES = 200


class Model(enum.StrEnum):
    eisenberg_noe = "eisenberg-noe"
    rogers_veraart = "rogers-veraart"
    debtrank = "debtrank"
    differential_debtrank = "differential-debtrank"


@contextmanager
def refusing() -> Iterator[None]:
    """Bad input: its code and message on stderr, exit 2, nothing on stdout."""
    try:
        yield
    except InvalidInput as error:
        err.print(f"[red]error[/red] ({error.code}): {error.message}")
        raise typer.Exit(2) from None


@app.command("contagion")
def contagion_command(
    file: Annotated[Path, typer.Argument(help="A network as JSON (see docs/examples/stress/).")],
    model: Annotated[Model, typer.Option(help="Which contagion model to run.")] = (
        Model.eisenberg_noe
    ),
    as_json: JsonOption = False,
) -> None:
    """Clear the network (payments, defaults, equity per node) or spread its shock (final stress
    per node and the DebtRank). Up to 200 nodes in exact fractions, larger ones in float64."""
    with refusing():
        data = read_network_file(file)
        figures = run_model(data, model)
    if as_json:
        print(json.dumps(figures))
        return
    out.print(_table(file.name, figures))


def read_network_file(path: Path) -> dict[str, Any]:
    """The JSON object of a network file; decimals read exactly (``Decimal``)."""
    try:
        data = json.loads(path.read_text(), parse_float=Decimal)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InvalidInput(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: a network is a JSON object")
    return data


def run_model(data: dict[str, Any], model: Model) -> dict[str, Any]:
    """The figures of one model on a network file's object, ready for JSON."""
    from embedfin.systemic import clearing, debtrank, network

    if model in (Model.eisenberg_noe, Model.rogers_veraart):
        net = network.clearing_from_mapping(data)
        clear = clearing.eisenberg_noe if model is Model.eisenberg_noe else clearing.rogers_veraart
        result = clear(net, exact=net.size <= EXACT_MAX_NODES)
        return {
            "model": str(model),
            "exact": result.exact,
            "rounds": result.rounds,
            "defaulted": list(result.defaulted),
            "nodes": [
                {"node": name, "owed": _number(o), "paid": _number(p), "equity": _number(e),
                 "defaulted": name in result.defaulted}
                for name, o, p, e in zip(result.nodes, result.owed, result.payments,
                                         result.equity, strict=True)
            ],
        }  # fmt: skip
    shocked = network.exposures_from_mapping(data)
    if model is Model.debtrank:
        spread = debtrank.debtrank(shocked, exact=shocked.size <= EXACT_MAX_NODES)
    else:
        spread = debtrank.differential_debtrank(shocked)
    return {
        "model": str(model),
        "exact": spread.exact,
        "rounds": spread.rounds,
        "debtrank": _number(spread.debtrank),
        "defaulted": list(spread.defaulted),
        "nodes": [
            {"node": name, "initial_stress": _number(h1), "final_stress": _number(ht),
             "state": str(state)}
            for name, h1, ht, state in zip(spread.nodes, spread.initial, spread.final,
                                           spread.states, strict=True)
        ],
    }  # fmt: skip


def _number(value: Fraction | float) -> int | float:
    """A figure for JSON: a whole number as an int, anything else as the nearest float."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return float(value)


def _table(name: str, figures: dict[str, Any]) -> Table:
    clearing = "paid" in figures["nodes"][0]
    kind = "exact" if figures["exact"] else "float64"
    title = f"{name}: {figures['model']} ({kind}, {figures['rounds']} rounds)"
    if not clearing:
        title += f" — DebtRank {figures['debtrank']:.6f}"
    table = Table(title=title)
    columns = ("owed", "paid", "equity") if clearing else ("initial_stress", "final_stress")
    for column in ("node", *columns, "defaulted" if clearing else "state"):
        table.add_column(column, justify="left" if column in ("node", "state") else "right")
    for row in figures["nodes"][:100]:
        cells = [f"{row[c]:,.6g}" for c in columns]
        last = ("[red]yes[/red]" if row["defaulted"] else "no") if clearing else row["state"]
        table.add_row(row["node"], *cells, last)
    if len(figures["nodes"]) > 100:
        table.caption = f"first 100 of {len(figures['nodes'])} nodes (--json has them all)"
    return table


@app.command("export")
def export_command(
    tenant: TenantOption,
    out_dir: Annotated[Path, typer.Option("--out", help="The directory of the Parquet files.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The tenant's exposure network from its books, read-only: nodes.parquet (consumers,
    merchants, suppliers, core enterprises, funders, channels, the platform, with what each
    holds and owes outside) and edges.parquet (who owes whom how much, and as what)."""
    from embedfin.bootstrap import Services
    from embedfin.ledger.service import Ledger
    from embedfin.systemic.books import read_exposures
    from embedfin.systemic.export import write_parquet

    with refusing():
        services = Services(Ledger.open(db)).tenant(tenant)
        exposures = read_exposures(services.ledger, tenant, services.lending, services.scf,
                                   services.scf_orders, services.scf_inventory)  # fmt: skip
        nodes_path, edges_path = write_parquet(exposures, out_dir)
    kinds: dict[str, int] = {}
    for edge in exposures.edges:
        kinds[edge.kind] = kinds.get(edge.kind, 0) + 1
    summary = {"tenant": tenant, "nodes": len(exposures.nodes), "edges": len(exposures.edges),
               "edges_by_kind": kinds, "files": [str(nodes_path), str(edges_path)]}  # fmt: skip
    if as_json:
        print(json.dumps(summary))
        return
    out.print(f"{tenant}: {summary['nodes']} nodes, {summary['edges']} edges → {out_dir}")
    for kind, count in sorted(kinds.items()):
        out.print(f"  {kind}: {count}")


@app.command("run")
def run_command(
    file: Annotated[Path, typer.Argument(help="A fund and its depositors as JSON.")],
    as_json: JsonOption = False,
) -> None:
    """A run on the fund pool, day by day (``systemic/runs.py``): depositors who redeem on what
    they see others do, the fund paying from cash, the facility, then fire sales; the day its
    liquidity runs out. With ``"compare": {"cap": C, "buffer": B}``, the same depositors with a
    T+0 cap of C and with B more cash too."""
    from embedfin.systemic.runs import compare, params_of, simulate

    with refusing():
        data = read_network_file(file)
        wanted = data.pop("compare", None)
        params = params_of(data)
        if wanted is None:
            results = {"as_given": simulate(params)}
        else:
            if not isinstance(wanted, dict) or set(wanted) - {"cap", "buffer"}:
                raise InvalidInput('compare is {"cap": share of T+0, "buffer": minor units}')
            cap = float(wanted.get("cap", params.fast_cap_share))
            results = compare(params, cap, int(wanted.get("buffer", 0)))
    figures = {
        name: {"shortfall_day": r.shortfall_day, "redeemed_share": r.redeemed_share,
               "fire_sale_loss": r.fire_sale_loss_minor,
               "days": [{"day": d.day, "requested": d.requested_minor, "paid": d.paid_minor,
                         "cash": d.cash_minor, "facility_left": d.facility_left_minor,
                         "sold": d.sold_minor} for d in r.days]}
        for name, r in results.items()
    }  # fmt: skip
    if as_json:
        print(json.dumps(figures))
        return
    table = Table(title=f"{file.name}: a run on the fund")
    for column in ("arm", "shortfall day", "redeemed", "fire-sale loss"):
        table.add_column(column, justify="left" if column == "arm" else "right")
    for name, f in figures.items():
        day = "never" if f["shortfall_day"] is None else str(f["shortfall_day"])
        table.add_row(name, day, f"{f['redeemed_share']:.1%}", f"{f['fire_sale_loss']:,}")
    out.print(table)
