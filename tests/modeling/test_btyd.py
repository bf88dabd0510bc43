"""BG/NBD (modeling.btyd, modeling.churn_pyfunc): the fit recovers the parameters of
data simulated from the model, and its predictions match the simulation."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.types.schema import AnyType, ColSpec, Schema

from modeling import registry
from modeling.btyd import fit_bg_nbd, log_likelihood
from modeling.churn_pyfunc import (
    BTYD_COLUMNS,
    PROBABILITY,
    BgNbd,
    BgNbdChurn,
    Calibration,
    btyd_inputs,
)
from modeling.train import ModelInterface, log_churn_model

TRUE = BgNbd(r=0.6, alpha=40.0, a=0.8, b=2.5)  # days: a purchase every ~67 days while alive


def simulate(params: BgNbd, customers: int, seed: int, window: float = 0.0):
    """(x, t_x, T, purchases in the next `window` days) per simulated customer."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(params.r, 1.0 / params.alpha, customers)
    dropout = rng.beta(params.a, params.b, customers)
    age = rng.uniform(200.0, 700.0, customers)
    x, t_x, future = np.zeros(customers), np.zeros(customers), np.zeros(customers)
    for i in range(customers):
        t, alive = 0.0, True
        while alive:
            t += rng.exponential(1.0 / rate[i])
            if t > age[i] + window:
                break
            if t <= age[i]:
                x[i], t_x[i] = x[i] + 1, t
            else:
                future[i] += 1
            alive = rng.random() >= dropout[i]
    return x, t_x, age, future


def test_the_fit_recovers_known_parameters():
    x, t_x, age, _ = simulate(TRUE, 20_000, seed=1)
    fitted = fit_bg_nbd(x, t_x, age)
    for name, tolerance in (("r", 0.15), ("alpha", 0.2), ("a", 0.25), ("b", 0.3)):
        true, found = getattr(TRUE, name), getattr(fitted, name)
        assert abs(found - true) <= tolerance * true, (name, true, found)
    # The true parameters are no more likely than the fitted ones.
    at = lambda p: log_likelihood(np.array([p.r, p.alpha, p.a, p.b]), x, t_x, age).sum()  # noqa: E731
    assert at(fitted) >= at(TRUE)


def test_predictions_match_what_the_simulation_did_next():
    window = 90.0
    x, t_x, age, future = simulate(TRUE, 20_000, seed=2, window=window)
    churn = TRUE.p_no_purchase(x, t_x, age, window)
    expected = TRUE.expected_purchases(x, t_x, age, window)
    assert churn.mean() == pytest.approx((future == 0).mean(), abs=0.01)
    assert expected.mean() == pytest.approx(future.mean(), rel=0.05)
    # Customers without repeat purchases are alive for sure (dropout follows a purchase).
    assert (TRUE.p_alive(x, t_x, age)[x == 0] == 1).all()


def test_the_classifier_reads_mart_columns():
    rows = pd.DataFrame(
        {
            "orders_lifetime": pd.array([1, 5, None], dtype="Int64"),
            "days_since_first_order": [100, 400, 50],
            "days_since_last_order": [100, 10, 50],
        }
    )
    x, t_x, age = btyd_inputs(rows)
    assert (
        x[:2].tolist() == [0, 4] and t_x[:2].tolist() == [0, 390] and age[:2].tolist() == [100, 400]
    )
    proba = BgNbdChurn(TRUE, 90).predict_proba(rows)
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1)[:2], 1)
    # A frequent, recent buyer is less likely to churn than a one-time buyer of long ago.
    assert proba[1, 1] < proba[0, 1]


def test_a_logged_bg_nbd_model_is_a_pyfunc_and_loads_safely(mlflow_store):
    """Its parameters are its config (no file to deserialise): the project's loader
    and MLflow's give the same probabilities for mart rows."""
    registry.use_tracking_store()
    mlflow.set_experiment("btyd")
    rows = pd.DataFrame(
        {
            "orders_lifetime": pd.array([1, 5, 2], dtype="Int64"),
            "days_since_first_order": pd.array([100, 400, 30], dtype="Int32"),
            "days_since_last_order": [100, 10, 3],
            "segment": ["a", "b", None],
        }
    )
    model = BgNbdChurn(TRUE, 90, Calibration("sigmoid", slope=1.2, intercept=-0.1))
    example = rows[list(BTYD_COLUMNS)]
    inputs = Schema([ColSpec(AnyType(), c) for c in BTYD_COLUMNS])
    interface = ModelInterface(inputs, example, BTYD_COLUMNS, ())
    with mlflow.start_run():
        info = log_churn_model("bg_nbd", model, interface, threshold=0.5)
    version = str(mlflow.register_model(info.model_uri, "shop").version)
    loaded, _ = registry.load_version("shop", version)
    expected = model.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(loaded.churn_probability(rows), expected)
    served = mlflow.pyfunc.load_model(info.model_uri).predict(rows)
    np.testing.assert_allclose(served[PROBABILITY], expected)
