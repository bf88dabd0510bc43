"""The out-of-time split on small hand-made frames (no warehouse)."""

from __future__ import annotations

import pandas as pd
import pytest

from modeling.data import LABEL_WINDOW_END, split_out_of_time
from modeling.errors import ModelingError
from modeling.manifest import FeatureSpec

SPEC = FeatureSpec("customer_id", "as_of", "churned", numeric=("x",), categorical=())
WINDOW = pd.Timedelta(days=90)


def snapshots(*dates: str, labels=(0, 1), unlabeled: str | None = None) -> pd.DataFrame:
    """One row per label value per date; an optional last snapshot without labels."""
    rows = [
        {"customer_id": f"C{i}", "as_of": d, "churned": label, "x": float(i)}
        for d in dates
        for i, label in enumerate(labels)
    ]
    if unlabeled:
        rows.append({"customer_id": "C0", "as_of": unlabeled, "churned": None, "x": 0.0})
    frame = pd.DataFrame(rows)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame[LABEL_WINDOW_END] = frame["as_of"] + WINDOW
    return frame


MONTHS_2024 = [f"2024-{m:02d}-01" for m in range(1, 13)]


def dates_of(frame: pd.DataFrame) -> list[str]:
    return [str(d.date()) for d in sorted(frame["as_of"].unique())]


def test_test_validation_and_train_are_separated_by_a_label_window():
    split = split_out_of_time(snapshots(*MONTHS_2024, unlabeled="2025-01-01"), SPEC)
    # Test: the latest labeled snapshot; the unlabeled one is never used.
    assert dates_of(split.test) == ["2024-12-01"]
    # Validation: Sep 1 + 90 days = Nov 30, the last window that ends by Dec 1.
    assert dates_of(split.valid) == ["2024-09-01"]
    # Train: windows ending by Sep 1 (Jun 1 + 90 days = Aug 30); Jul and Aug are the gap.
    assert dates_of(split.train) == MONTHS_2024[:6]
    # Refit: every window that ends by Dec 1 (the gap and validation included), so no
    # refit label looks past the test as_of; complete: every labeled snapshot.
    assert dates_of(split.refit) == MONTHS_2024[:9]
    assert (split.refit[LABEL_WINDOW_END] <= split.test["as_of"].min()).all()
    assert dates_of(split.complete) == MONTHS_2024
    assert split.describe("as_of") == {
        "train_as_of": "2024-01-01..2024-06-01",
        "valid_as_of": "2024-09-01",
        "test_as_of": "2024-12-01",
        "refit_as_of": "2024-01-01..2024-09-01",
        "complete_as_of": "2024-01-01..2024-12-01",
        "train_rows": 12,
        "valid_rows": 2,
        "test_rows": 2,
        "refit_rows": 18,
        "complete_rows": 24,
    }


def test_more_test_snapshots_move_validation_and_train_back():
    split = split_out_of_time(snapshots(*MONTHS_2024), SPEC, test_snapshots=2)
    assert dates_of(split.test) == ["2024-11-01", "2024-12-01"]
    assert dates_of(split.valid) == ["2024-08-01"]
    assert dates_of(split.train) == MONTHS_2024[:5]


@pytest.mark.parametrize(
    ("frame", "test_snapshots", "message"),
    [
        (snapshots(*MONTHS_2024[:3]), 2, "need at least 4 labeled snapshots"),
        (snapshots("2024-01-01", "2024-02-01", "2024-03-01"), 1, "no labeled snapshot's window"),
        (snapshots("2024-02-01", "2024-04-01", "2024-07-01"), 1, "empty training set"),
        (snapshots(*MONTHS_2024, labels=(0, 0)), 1, "the train set has a single class"),
    ],
    ids=["too_few_snapshots", "no_validation", "empty_training_set", "single_class"],
)
def test_splits_that_cannot_be_honest_are_refused(frame, test_snapshots, message):
    with pytest.raises(ModelingError, match=message):
        split_out_of_time(frame, SPEC, test_snapshots)


def test_a_single_class_in_test_is_refused_too():
    frame = snapshots(*MONTHS_2024)
    frame.loc[frame["as_of"] == "2024-12-01", "churned"] = 1
    with pytest.raises(ModelingError, match="the test set has a single class of 'churned'"):
        split_out_of_time(frame, SPEC)
