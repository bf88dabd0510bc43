"""Evaluation plots, one PNG each, written into a directory and logged with the run."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def evaluation_plots(
    y: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    curves: dict[str, np.ndarray],
    importance: pd.DataFrame,
    title: str,
    out: Path,
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    fig, ax = plt.subplots(figsize=(5, 4.5))
    fpr, tpr, _ = roc_curve(y, proba)
    ax.plot(fpr, tpr, label=title)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="random")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(loc="lower right")
    paths.append(_save(fig, out / "roc_curve.png"))

    fig, ax = plt.subplots(figsize=(5, 4.5))
    precision, recall, _ = precision_recall_curve(y, proba)
    ax.plot(recall, precision, label=title)
    ax.axhline(y.mean(), ls="--", color="grey", label=f"base rate {y.mean():.2f}")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (churned)")
    ax.legend(loc="upper right")
    paths.append(_save(fig, out / "pr_curve.png"))

    fig, ax = plt.subplots(figsize=(5, 4.5))
    order = np.argsort(proba, kind="stable")
    bins = [part for part in np.array_split(order, 10) if part.size]
    ax.plot([proba[b].mean() for b in bins], [y[b].mean() for b in bins], "o-", label=title)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    ax.set(xlabel="mean predicted probability", ylabel="observed churn rate", title="Calibration")
    ax.legend(loc="upper left")
    paths.append(_save(fig, out / "calibration.png"))

    fig, (gain_ax, lift_ax) = plt.subplots(1, 2, figsize=(9, 4))
    ranked = y[np.argsort(-proba, kind="stable")]
    share = np.arange(1, y.size + 1) / y.size
    gain = np.cumsum(ranked) / ranked.sum()
    gain_ax.plot(share, gain, label=title)
    gain_ax.plot([0, 1], [0, 1], "--", color="grey", label="random")
    gain_ax.set(xlabel="share of customers contacted", ylabel="share of churners reached")
    gain_ax.set_title("Cumulative gains")
    gain_ax.legend(loc="lower right")
    lift_ax.plot(share, gain / share)
    lift_ax.axhline(1, ls="--", color="grey")
    lift_ax.set(xlabel="share of customers contacted", ylabel="lift", title="Lift", xlim=(0.01, 1))
    paths.append(_save(fig, out / "gains_lift.png"))

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, curve in curves.items():
        best = int(np.argmax(curve))
        ax.plot(np.arange(curve.size), curve, label=f"{name} (best {curve[best]:,.0f} at k={best})")
    ax.axhline(0, color="black", lw=0.5)
    ax.set(xlabel="customers contacted (k)", ylabel="realised profit", title="Campaign profit")
    ax.legend(loc="lower left", fontsize=8)
    paths.append(_save(fig, out / "profit_curve.png"))

    fig, ax = plt.subplots(figsize=(4.5, 4))
    matrix = confusion_matrix(y, (proba >= threshold).astype(int), labels=[0, 1])
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, f"{count:,}", ha="center", va="center")
    ax.set_xticks([0, 1], ["retained", "churned"])
    ax.set_yticks([0, 1], ["retained", "churned"])
    ax.set(xlabel="predicted", ylabel="actual", title=f"Confusion matrix (t={threshold:.2f})")
    paths.append(_save(fig, out / "confusion_matrix.png"))

    top = importance.head(15).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.barh(top["feature"], top["importance"], xerr=top["importance_std"], color="tab:blue")
    ax.set(xlabel="drop in PR AUC when shuffled", title="Permutation importance (test)")
    paths.append(_save(fig, out / "feature_importance.png"))
    return paths


def comparison_plot(results: dict[str, dict], out: Path) -> Path:
    """Bar chart of the headline metrics of every model of a run."""
    names = list(results)
    metrics = ["test_roc_auc", "test_pr_auc", "test_recall_top20"]
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [results[name][m] for m in metrics]
        ax.bar(np.arange(len(metrics)) + i * width, values, width, label=name)
    ax.set_xticks(np.arange(len(metrics)) + width * (len(names) - 1) / 2, metrics)
    ax.set(ylim=(0, 1), title="Model comparison (test snapshot)")
    ax.legend(fontsize=8)
    return _save(fig, out / "model_comparison.png")
