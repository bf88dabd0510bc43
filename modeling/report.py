"""The insights report: one self-contained HTML file (plots embedded) with the model
comparison, the champion decision, the top churn drivers in plain words and the
campaign economics. Written under reports/ and logged with the training run."""

from __future__ import annotations

import base64
import html

import pandas as pd

from modeling.evaluation import CampaignEconomics

# The reference rows of the comparison table, as the report names them.
REFERENCE_NAMES = {
    "recency_rule": "recency rule (days since the last order)",
    "oracle": "oracle (the generator's true probability)",
}
HEADLINE_METRICS = (
    "test_roc_auc",
    "test_pr_auc",
    "test_log_loss",
    "test_brier",
    "test_calibration_error",
    "test_precision",
    "test_recall",
    "test_f1",
    "test_lift_top10",
    "test_recall_top20",
    "test_profit_best_model",
    "test_profit_uplift_vs_random",
    "fit_seconds",
)
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; }
th { text-align: left; background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 48%; margin: 4px; border: 1px solid #eee; } .note { color: #666; font-size: 90%; }
"""


def _img(name: str, data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return f'<img alt="{html.escape(name)}" src="data:image/png;base64,{encoded}">'


def _driver_sentence(row: pd.Series, descriptions: dict[str, str]) -> str:
    feature, corr = row["feature"], row["correlation_with_risk"]
    meaning = html.escape(descriptions.get(feature, ""))
    if pd.isna(corr):
        direction = "risk differs across its categories"
    elif corr > 0:
        direction = "the higher it is, the higher the churn risk"
    else:
        direction = "the higher it is, the lower the churn risk"
    return (
        f"<li><b>{html.escape(feature)}</b>: {direction}. <span class='note'>{meaning}</span></li>"
    )


def _gain_sentence(best: str, gain: dict[str, float]) -> str:
    """The best model against BG/NBD on the same test rows, with bootstrap intervals."""

    def part(metric: str) -> str:
        value, low, high = (gain[f"{metric}_difference{s}"] for s in ("", "_low", "_high"))
        return f"{value:+.4f} (95 % bootstrap interval {low:+.4f} to {high:+.4f})"

    return (
        f"<p>{html.escape(best)} against the BG/NBD baseline on the same test rows: ROC AUC"
        f" {part('roc_auc')}, Brier score {part('brier')} (lower is better). BG/NBD is"
        " fitted on the training snapshots; a <code>_refit</code> model learned from every"
        " snapshot whose labels end by the test date.</p>"
    )


def render(
    results: dict[str, dict],
    best: str,
    decision: dict,
    params: dict,
    tags: dict,
    economics: CampaignEconomics,
    primary_metric: str,
    references: dict[str, dict[str, float]] | None = None,
    descriptions: dict[str, str] | None = None,
    gain_over_btyd: dict[str, float] | None = None,
) -> str:
    descriptions = descriptions or {}
    gain_line = _gain_sentence(best, gain_over_btyd) if gain_over_btyd else ""
    winner = results[best]
    m = winner["metrics"]
    rows = "".join(
        f"<tr><th>{html.escape(name)}{' (best)' if name == best else ''}</th>"
        + "".join(f"<td class='num'>{r['metrics'][k]:,.3f}</td>" for k in HEADLINE_METRICS)
        + "</tr>"
        for name, r in results.items()
    ) + "".join(
        f"<tr><th>{html.escape(REFERENCE_NAMES.get(name, name))}</th>"
        + "".join(
            f"<td class='num'>{metrics[k]:,.3f}</td>" if k in metrics else "<td>&mdash;</td>"
            for k in HEADLINE_METRICS
        )
        + "</tr>"
        for name, metrics in (references or {}).items()
    )
    header = (
        "<tr><th>model</th>"
        + "".join(f"<th>{k[5:] if k.startswith('test_') else k}</th>" for k in HEADLINE_METRICS)
        + "</tr>"
    )
    drivers = "".join(
        _driver_sentence(row, descriptions) for _, row in winner["importance"].head(8).iterrows()
    )
    best_k = int(m["test_profit_best_k_model_by_expected_value"])
    test_rows = int(params["test_rows"])
    champion_line = (
        f"current champion v{decision['champion_version']} scored "
        f"{decision['champion_score']:.4f} on the same test snapshot"
        if decision["champion_score"] is not None
        else "there was no comparable champion"
    )
    figures = "".join(_img(n, b) for n, b in winner["figures"].items())
    lineage = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in tags.items()
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Churn model report</title><style>{STYLE}</style></head>
<body>
<h1>Churn model report</h1>
<p>Trained on {params["train_rows"]:,} customer snapshots ({params["train_as_of"]}), validated on
{params["valid_as_of"]}, tested out of time on {params["test_as_of"]} ({test_rows:,} customers,
churn rate {m["test_base_rate"]:.1%}). Positive class: churned (no completed order in the
following churn window).</p>

<h2>Decision</h2>
<p>Best model of this run by {primary_metric}: <b>{html.escape(best)}</b> ({decision["candidate_score"]:.4f}),
registered as version {decision["version"]} with alias <b>@{decision["alias"]}</b>: {html.escape(decision["reason"])};
{champion_line}.</p>

<h2>Model comparison (test snapshot)</h2>
<table>{header}{rows}</table>
{gain_line}
<p class="note">bg_nbd is the buy-till-you-die baseline (BG/NBD, fitted on the training
snapshots' purchase histories alone). The reference rows are scored on the same test rows:
the recency rule ranks customers by days since their last order; the oracle, when the
warehouse is synthetic, is the generator's true churn probability, the best any model can
reach. Threshold-based metrics use the probability threshold that maximised F1 on the
validation snapshot ({m["test_threshold"]:.3f} for {html.escape(best)}). Lift and recall "top10/top20":
among the 10 % / 20 % highest-risk customers.</p>

<h2>What drives churn</h2>
<p>Permutation importance of the best model on the test snapshot (how much PR AUC drops when the
feature is shuffled), with the direction of each feature's link to the predicted risk:</p>
<ul>{drivers}</ul>

<h2>What it means for a retention campaign</h2>
<p>With an offer costing {economics.offer_cost:,.2f} that retains {economics.offer_success_rate:.0%} of
the churners it reaches, and a saved customer worth {economics.margin_rate:.0%} margin on their
{economics.value_column} scaled to {economics.horizon_days} days:</p>
<ul>
<li>Contacting the <b>{best_k:,}</b> customers with the highest expected value (of {test_rows:,}) would
have earned <b>{m["test_profit_best_model_by_expected_value"]:,.0f}</b> on the test snapshot.</li>
<li>Ranking by churn probability alone: best {m["test_profit_best_model"]:,.0f}
(top {int(m["test_profit_best_k_model"]):,}); a recency rule (longest since last order): best
{m["test_profit_best_recency_rule"]:,.0f}; random targeting: best {m["test_profit_best_random"]:,.0f}.</li>
<li>Uplift of the model over random targeting: <b>{m["test_profit_uplift_vs_random"]:,.0f}</b>.</li>
</ul>
<p class="note">The scored table <code>marts.customer_risk</code> recommends "contact" exactly where the
expected value of contacting is positive.</p>

<h2>Plots ({html.escape(best)})</h2>
{figures}

<h2>Lineage</h2>
<table>{lineage}</table>
</body></html>
"""
