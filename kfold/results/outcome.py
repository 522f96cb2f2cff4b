"""What one fold produced (:class:`FoldOutcome`), as plain data and JSON, and how outcomes become a CVResult."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Sequence

import numpy as np

from kfold.core import FoldError
from kfold.results.cv_result import CVResult
from kfold.results.history import CVHistory

__all__ = ["FoldOutcome", "outcome_to_dict", "outcome_from_dict", "collect"]


@dataclasses.dataclass
class FoldOutcome:
    """What one fold produced: per-epoch logs, held-out scores and timings.

    Examples
    --------
    >>> FoldOutcome(fold=0, history={"loss": [1.0]}, scores={"loss": 1.0},
    ...             fit_time=0.1, score_time=0.01).scores
    {'loss': 1.0}
    """

    fold: int
    history: dict[str, list[float]]
    scores: dict[str, float]
    fit_time: float
    score_time: float
    model: Any = None
    preprocess: Any = None
    error: str | None = None  #: why the fold failed (a traceback or a message), else None
    #: the final model's predictions on the validation rows (in ``val`` order), with
    #: ``return_predictions=True``: an array, or a dict of arrays for several outputs
    predictions: Any = None


def _nan_to_none(values: Iterable[float]) -> list:
    return [float(v) if np.isfinite(v) else None for v in values]


def outcome_to_dict(outcome: FoldOutcome) -> dict:
    """A fold outcome as plain Python types (the model, preprocessing and predictions are left out).

    Examples
    --------
    >>> outcome_to_dict(FoldOutcome(0, {"loss": [1.0]}, {"loss": 1.0}, 2.0, 0.5))["history"]
    {'loss': [1.0]}
    """
    data = {
        "fold": outcome.fold,
        "history": {k: _nan_to_none(v) for k, v in outcome.history.items()},
        "scores": {k: (float(v) if np.isfinite(v) else None) for k, v in outcome.scores.items()},
        "fit_time": outcome.fit_time,
        "score_time": outcome.score_time,
    }
    if outcome.error is not None:
        data["error"] = outcome.error
    return data


def outcome_from_dict(data: dict) -> FoldOutcome:
    """Rebuild a :class:`~kfold.train.fold.FoldOutcome` from :func:`outcome_to_dict` output.

    Examples
    --------
    >>> outcome_from_dict({"fold": 1, "history": {"loss": [None]}, "scores": {},
    ...                    "fit_time": 1.0, "score_time": 0.0}).history
    {'loss': [nan]}
    """
    nan = float("nan")
    return FoldOutcome(
        fold=int(data["fold"]),
        history={k: [nan if v is None else v for v in values] for k, values in data["history"].items()},
        scores={k: nan if v is None else v for k, v in data["scores"].items()},
        fit_time=float(data["fit_time"]),
        score_time=float(data["score_time"]),
        error=data.get("error"),
    )


def collect(outcomes: Iterable[FoldOutcome], folds: Sequence[tuple], params: dict) -> CVResult:
    """Assemble the fold outcomes (in fold order) into a :class:`CVResult`.

    ``folds[i]`` is fold ``i``'s ``(train, val)`` indices.

    Examples
    --------
    >>> outcome = FoldOutcome(0, {"loss": [1.0]}, {"loss": 1.0}, 0.5, 0.1)
    >>> collect([outcome], [(np.array([1]), np.array([0]))], {}).scores
    {'val_loss': array([1.])}
    """
    outcomes = sorted(outcomes, key=lambda o: o.fold)
    ok = [o for o in outcomes if o.error is None]
    if not ok:
        first = outcomes[0]
        raise FoldError(first.fold, f"{first.error.strip().splitlines()[-1]} (and every other fold "
                                    f"failed too). Its full error:\n{first.error}")
    keys = list(ok[0].scores)
    keep = any(o.model is not None for o in outcomes)
    predicted = any(o.predictions is not None for o in outcomes)
    return CVResult(
        history=CVHistory([o.history if o.error is None else {} for o in outcomes]),
        folds=[tuple(folds[o.fold]) for o in outcomes],
        scores={k: np.array([o.scores.get(k, np.nan) if o.error is None else np.nan for o in outcomes])
                for k in keys},
        fit_times=np.array([o.fit_time for o in outcomes]),
        score_times=np.array([o.score_time for o in outcomes]),
        params=params,
        models=[o.model for o in outcomes] if keep else None,
        preprocessors=[o.preprocess for o in outcomes] if keep else None,
        errors={i: o.error for i, o in enumerate(outcomes) if o.error is not None},
        predictions=[o.predictions if o.error is None else None for o in outcomes] if predicted else None,
    )
