"""How many epochs the final model trains: the selected epoch as it is, scaled, or a number."""
from __future__ import annotations

from typing import Any

import numpy as np

from kfold.core import check_choice, check_positive_int

__all__ = ["REFIT_POLICIES", "refit_epochs_for"]


REFIT_POLICIES = ("same", "scaled")


def refit_epochs_for(policy: Any, epoch: int, folds: list, n: int) -> int:
    """Epochs for the final model: ``"same"``, ``"scaled"`` or an explicit int.

    ``"scaled"`` multiplies the selected epoch by ``n / mean training size``,
    which is ``k/(k-1)`` for k-fold, and rounds it.

    Examples
    --------
    >>> from kfold import KFold
    >>> folds = list(KFold(5).split(range(100)))
    >>> refit_epochs_for("same", 40, folds, 100), refit_epochs_for("scaled", 40, folds, 100)
    (40, 50)
    """
    if isinstance(policy, (int, np.integer)) and not isinstance(policy, bool):
        return check_positive_int("refit_epochs", policy)
    check_choice("refit_epochs", policy, REFIT_POLICIES)
    if policy == "same":
        return int(epoch)
    mean_train = float(np.mean([len(train) for train, _ in folds]))
    return max(1, int(round(epoch * n / mean_train)))
