"""Metrics and retention economics on examples small enough to compute by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from modeling import evaluation
from modeling.evaluation import CampaignEconomics

Y = np.array([0, 0, 1, 1])
P = np.array([0.1, 0.4, 0.35, 0.8])


def test_f1_threshold_maximises_f1():
    # Thresholds 0.1, 0.35, 0.4, 0.8 give F1 2/3, 4/5, 1/2, 2/3.
    assert evaluation.f1_threshold(Y, P) == 0.35


def test_expected_calibration_error_over_equal_count_bins():
    y = np.array([0, 1, 0, 1])
    p = np.array([0.2, 0.4, 0.6, 0.8])
    # Bins {0.2, 0.4} and {0.6, 0.8}: observed 0.5 against 0.3 and 0.7.
    assert evaluation.expected_calibration_error(y, p, bins=2) == pytest.approx(0.2)
    assert evaluation.expected_calibration_error(y.astype(float), y.astype(float)) == 0.0


def test_top_share_lift_and_recall():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    score = np.arange(10, 0, -1, dtype=float)  # the first rows rank highest
    lift, recall = evaluation.top_share(y, score, 0.2)  # top 2: one churner
    assert lift == pytest.approx(0.5 / 0.3) and recall == pytest.approx(1 / 3)
    lift, recall = evaluation.top_share(y, score, 0.01)  # at least one customer
    assert lift == pytest.approx(1 / 0.3) and recall == pytest.approx(1 / 3)


def test_classification_metrics_at_a_given_threshold():
    metrics = evaluation.classification_metrics(Y, P, threshold=0.35)
    assert set(metrics) == {
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "calibration_error",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "threshold",
        "base_rate",
        "lift_top10",
        "recall_top10",
        "lift_top20",
        "recall_top20",
    }
    assert all(isinstance(v, float) for v in metrics.values())
    # Predicted churners: 0.4, 0.35, 0.8 -> two of three right, both churners found.
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == 1.0
    assert metrics["accuracy"] == 0.75
    assert metrics["base_rate"] == 0.5
    assert metrics["roc_auc"] == 0.75  # 3 of 4 (churner, stayer) pairs ordered right
    assert metrics["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)


def test_profit_curve_is_the_cumulative_profit_down_the_ranking():
    profit = np.array([1.0, -2.0, 3.0])
    curve = evaluation.profit_curve(profit, np.array([0.5, 0.9, 0.1]))
    np.testing.assert_allclose(curve, [0.0, -2.0, -1.0, 2.0])


# Value = spend: margin 1 over a horizon as long as the spend period.
PLAIN = CampaignEconomics(
    offer_cost=1.0, offer_success_rate=0.5, margin_rate=1.0, value_days=1, horizon_days=1
)


def test_campaign_curves_and_metrics():
    churned = np.array([1, 0, 1])
    proba = np.array([0.9, 0.2, 0.5])
    spend = np.array([10.0, 20.0, 4.0])
    days_since = np.array([5.0, np.nan, 30.0])
    # Realised profit per customer: churned * 0.5 * spend - 1 = [4, -1, 1].
    curves = evaluation.campaign_curves(PLAIN, churned, proba, spend, days_since)
    np.testing.assert_allclose(curves["model"], [0, 4, 5, 4])  # by probability: 0, 2, 1
    # Expected value 0.5 * p * spend - 1 = [3.5, 1, 0]: order 0, 1, 2.
    np.testing.assert_allclose(curves["model_by_expected_value"], [0, 4, 3, 4])
    np.testing.assert_allclose(curves["random"], [0, 4 / 3, 8 / 3, 4])
    np.testing.assert_allclose(curves["recency_rule"], [0, 1, 5, 4])  # unknown recency last
    metrics = evaluation.campaign_metrics(curves)
    assert metrics["profit_best_model"] == 5 and metrics["profit_best_k_model"] == 2
    assert metrics["profit_best_k_model_by_expected_value"] == 1  # the first best k
    assert (
        metrics["profit_best_random"] == pytest.approx(4) and metrics["profit_best_k_random"] == 3
    )
    assert metrics["profit_uplift_vs_random"] == pytest.approx(1)


def test_customer_value_and_expected_value_of_contact():
    economics = CampaignEconomics()  # 5 per offer, 25 % success, 30 % margin, 365 / 180 days
    value = economics.customer_value(np.array([180.0, np.nan]))
    np.testing.assert_allclose(value, [0.3 * 365, 0.0])  # an unknown spend is worth nothing
    np.testing.assert_allclose(economics.expected_value(np.array([0.5]), np.array([100.0])), [7.5])
    assert economics.as_params()["economics.offer_cost"] == 5.0


def test_weighted_roc_auc_is_roc_auc_with_sample_weights():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.3).astype(float)
    score = np.round(rng.random(500) + 0.3 * y, 2)  # ties included
    weights = rng.integers(0, 4, 500).astype(float)
    groups = np.unique(score, return_inverse=True)[1]
    expected = roc_auc_score(y, score, sample_weight=weights)
    assert evaluation.weighted_roc_auc(groups, y, weights) == pytest.approx(expected)


def test_paired_bootstrap_brackets_the_difference_and_sees_no_gain_between_twins():
    rng = np.random.default_rng(1)
    truth = rng.random(3000)
    y = (rng.random(3000) < truth).astype(int)
    good, weak = truth, np.clip(truth + rng.normal(0, 0.3, 3000), 0, 1)
    result = evaluation.paired_bootstrap(y, good, weak)
    assert result["roc_auc_difference"] == pytest.approx(
        roc_auc_score(y, good) - roc_auc_score(y, weak)
    )
    assert 0 < result["roc_auc_difference_low"] < result["roc_auc_difference"]
    assert result["roc_auc_difference"] < result["roc_auc_difference_high"]
    assert result["brier_difference_high"] < 0  # the truth is the better probability
    twins = evaluation.paired_bootstrap(y, good, good.copy())
    assert twins["roc_auc_difference_low"] == twins["roc_auc_difference_high"] == 0
