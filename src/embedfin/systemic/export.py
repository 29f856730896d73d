"""The exposure network as Parquet (``nodes.parquet``, ``edges.parquet``, written and read
with DuckDB), and back into the network the clearing models take.

``nodes``: node_id, kind, currency, external_assets_minor, external_liabilities_minor.
``edges``: debtor, creditor, currency, amount_minor, kind. Amounts are integer minor units; the
models take them as float64 (one currency at a time).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from embedfin.core.errors import InvalidInput
from embedfin.systemic.exposures import Edge, Exposures, Node
from embedfin.systemic.network import ClearingNetwork, clearing_network_from_arrays

NODE_COLUMNS = ("node_id VARCHAR, kind VARCHAR, currency VARCHAR, "
                "external_assets_minor BIGINT, external_liabilities_minor BIGINT")  # fmt: skip
EDGE_COLUMNS = ("debtor VARCHAR, creditor VARCHAR, currency VARCHAR, amount_minor BIGINT, "
                "kind VARCHAR")  # fmt: skip


def write_parquet(exposures: Exposures, directory: Path) -> tuple[Path, Path]:
    """``nodes.parquet`` and ``edges.parquet`` in ``directory`` (created if need be)."""
    directory.mkdir(parents=True, exist_ok=True)
    nodes_path, edges_path = directory / "nodes.parquet", directory / "edges.parquet"
    with duckdb.connect() as db:
        db.execute(f"CREATE TABLE nodes ({NODE_COLUMNS})")
        db.execute(f"CREATE TABLE edges ({EDGE_COLUMNS})")
        if exposures.nodes:
            db.executemany("INSERT INTO nodes VALUES (?, ?, ?, ?, ?)",
                           [_node_row(n) for n in exposures.nodes])  # fmt: skip
        if exposures.edges:
            db.executemany("INSERT INTO edges VALUES (?, ?, ?, ?, ?)",
                           [_edge_row(e) for e in exposures.edges])  # fmt: skip
        for table, path in (("nodes", nodes_path), ("edges", edges_path)):
            db.execute(f"COPY {table} TO '{_quoted(path)}' (FORMAT PARQUET)")
    return nodes_path, edges_path


def read_parquet(directory: Path) -> Exposures:
    """The exposures of an export directory."""
    nodes_path, edges_path = directory / "nodes.parquet", directory / "edges.parquet"
    for path in (nodes_path, edges_path):
        if not path.is_file():
            raise InvalidInput(f"{path}: no such export file")
    with duckdb.connect() as db:
        nodes = db.execute(
            "SELECT node_id, kind, currency, external_assets_minor, external_liabilities_minor"
            f" FROM read_parquet('{_quoted(nodes_path)}') ORDER BY currency, node_id"
        ).fetchall()
        edges = db.execute(
            "SELECT debtor, creditor, currency, amount_minor, kind"
            f" FROM read_parquet('{_quoted(edges_path)}') ORDER BY currency, debtor, creditor"
        ).fetchall()
    return Exposures(tuple(Node(*row) for row in nodes), tuple(Edge(*row) for row in edges))


def clearing_network_of(
    exposures: Exposures, currency: str, alpha: float = 1.0, beta: float = 1.0
) -> ClearingNetwork:
    """The debts in one currency as a clearing network (float64, in minor units)."""
    nodes = [n for n in exposures.nodes if n.currency == currency]
    if not nodes:
        found = sorted({n.currency for n in exposures.nodes})
        raise InvalidInput(f"no nodes in {currency}; the export has {found}")
    index = {n.node_id: i for i, n in enumerate(nodes)}
    edges = [e for e in exposures.edges if e.currency == currency]
    for edge in edges:
        if edge.debtor not in index or edge.creditor not in index:
            raise InvalidInput(f"edge {edge.debtor} → {edge.creditor} names an unknown node")
    return clearing_network_from_arrays(
        [n.node_id for n in nodes],
        np.array([index[e.debtor] for e in edges], dtype=np.int64),
        np.array([index[e.creditor] for e in edges], dtype=np.int64),
        np.array([e.amount_minor for e in edges], dtype=np.float64),
        np.array([n.external_assets_minor for n in nodes], dtype=np.float64),
        np.array([n.external_liabilities_minor for n in nodes], dtype=np.float64),
        alpha,
        beta,
    )


def _node_row(node: Node) -> tuple[object, ...]:
    return (node.node_id, node.kind, node.currency, node.external_assets_minor,
            node.external_liabilities_minor)  # fmt: skip


def _edge_row(edge: Edge) -> tuple[object, ...]:
    return (edge.debtor, edge.creditor, edge.currency, edge.amount_minor, edge.kind)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
