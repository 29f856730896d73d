"""A fraud model keeps the columns it was trained on: the catalogue can grow (a new feature)
without making the stored champion unreadable, and a model never scores on columns its booster
was not trained on."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from embedfin.core.errors import InvalidInput
from embedfin.risk.model import COLUMNS, FraudModel, row_of

OLD_COLUMNS = ("amount_minor", "no_longer_in_the_catalogue", "kind=checkout")


def _booster(width: int) -> lgb.Booster:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, width))
    y = (x[:, 0] > 0.3).astype(int)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "min_data_in_leaf": 5}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=10)


def test_a_model_of_an_older_catalogue_loads_and_scores_on_its_own_columns() -> None:
    model = FraudModel(_booster(3), (1.0, 0.0), 0.5, 2.0, {}, (), OLD_COLUMNS)
    loaded = FraudModel.from_json(model.to_json())
    assert loaded.columns == OLD_COLUMNS
    assert loaded.model_id == model.model_id
    features = {"amount_minor": 2, "kind": "checkout", "buyer_refunds_7d": 9}
    assert loaded.row(features)[0] == 2.0
    assert loaded.row(features)[2] == 1.0
    assert np.isnan(loaded.row(features)[1])  # a feature since removed reads as missing
    assert loaded.score(features) == model.score(features)
    assert loaded.row({"kind": "payout"})[2] == 0.0


def test_columns_that_do_not_match_the_booster_are_refused() -> None:
    with pytest.raises(InvalidInput):
        FraudModel(_booster(3), (1.0, 0.0), 0.5, 2.0, {}, (), ("amount_minor",))


def test_the_catalogue_columns_are_the_default_encoding() -> None:
    features = {"amount_minor": 5, "kind": "checkout", "payment_method": "card"}
    row = row_of(features)
    assert len(row) == len(COLUMNS)
    assert row[COLUMNS.index("amount_minor")] == 5.0
    assert row[COLUMNS.index("kind=checkout")] == 1.0
    assert row[COLUMNS.index("payment_method=card")] == 1.0
    assert row[COLUMNS.index("payment_method=wallet")] == 0.0
