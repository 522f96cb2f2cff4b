"""CVHistory: indexing by fold, epoch and key; NaN padding; JSON round trip."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kfold import CVHistory


@pytest.fixture
def history():
    return CVHistory([
        {"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0]},
        {"loss": [3.2, 2.2], "val_loss": [3.6, 2.9]},  # stopped early
    ])


def test_curves_are_nan_padded(history):
    np.testing.assert_array_equal(history["val_loss"], [[3.5, 2.5, 2.0], [3.6, 2.9, np.nan]])
    assert history.epochs_run == [3, 2] and history.n_epochs == 3 and history.n_folds == 2


def test_index_by_fold_epoch_and_key(history):
    assert history[1] == {"loss": [3.2, 2.2], "val_loss": [3.6, 2.9]}
    assert history[0, "loss"] == [3.0, 2.0, 1.0]
    assert history[0, 2, "val_loss"] == 2.0
    assert history[-1, -1, "loss"] == 2.2


def test_returned_values_are_copies(history):
    history[0]["loss"].append(99.0)
    history[0, "loss"].append(99.0)
    assert history[0, "loss"] == [3.0, 2.0, 1.0]


def test_keys_keep_keras_order_and_union():
    h = CVHistory([{"loss": [1.0], "mae": [1.0]}, {"loss": [1.0], "val_loss": [2.0]}])
    assert h.keys() == ["loss", "mae", "val_loss"]
    assert np.isnan(h["mae"][1]).all()


def test_unknown_key_lists_the_keys(history):
    with pytest.raises(ValueError, match=r"Invalid `key`.*\['loss', 'val_loss'\].*Received: key='val_mae'"):
        history["val_mae"]


@pytest.mark.parametrize("index", [2, -3])
def test_fold_out_of_range(history, index):
    with pytest.raises(ValueError, match=f"Invalid `fold`.*Received: fold={index}"):
        history[index]


def test_bad_index_type(history):
    with pytest.raises(ValueError, match="Invalid `index`"):
        history[1.5]


def test_json_round_trip_with_nan_and_inf():
    h = CVHistory([{"loss": [1.0, float("nan"), float("inf")]}])
    text = json.dumps(h.to_dict(), allow_nan=False)  # strict JSON: no NaN literals
    back = CVHistory.from_dict(json.loads(text))
    assert np.isnan(back[0, 1, "loss"]) and np.isnan(back[0, 2, "loss"])
    assert back[0, 0, "loss"] == 1.0


def test_equality(history):
    assert history == CVHistory.from_dict(history.to_dict())
    assert history != CVHistory([{"loss": [3.0]}])
