"""The result of a cross-validation: every fold's curves, scores, indices and settings."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar

import numpy as np

from kfold.results.history import CVHistory
from kfold.results.saving import Saved
from kfold.split import folds_from_json, folds_to_json
from kfold.split import folds_hash
from kfold.results.curves import best_epoch, check_ddof, fold_std
from kfold.results.predictions import oof_array, predictions_from_json, predictions_to_json
from kfold.results.scores import HeldOutScores

__all__ = ["CVResult"]


@dataclasses.dataclass(eq=False)
class CVResult(Saved):
    """Everything a k-fold run produced.

    Attributes
    ----------
    history : CVHistory
        Every Keras log key of every epoch of every fold:
        ``result.history["val_mae"]`` is an ``(n_folds, n_epochs)`` array.
    folds : list of (np.ndarray, np.ndarray)
        The ``(train_idx, val_idx)`` of each fold.
    scores : dict of str to np.ndarray
        Each fold's model evaluated on its held-out part at the end, per key,
        under held-out names (``val_loss``, ``val_mae``: ``model.evaluate``'s
        names with ``val_``; the old names ``scores["mae"]`` still read, with a
        DeprecationWarning, for one release).
    fit_times, score_times : np.ndarray
        Seconds per fold spent training (preprocessing and building included)
        and evaluating.
    params : dict
        The arguments that produced the result, as plain Python types.
    models, preprocessors : list or None
        Each fold's trained model and fitted preprocessing, with
        ``return_models=True``; never saved to JSON.
    errors : dict of int to str
        Folds that failed (``on_error="skip"``): fold index to the reason. Their
        scores are NaN and their curves empty, so every mean, std and selected
        epoch is based on the other folds (``n_folds`` in each figure says how many).
    predictions : list or None
        With ``return_predictions=True``: each fold's final model's predictions
        on its held-out rows, in the order of its validation indices (an array,
        or a dict of arrays for several outputs; None for a failed fold). Saved
        with the result. :attr:`oof_predictions` puts them in sample order.

    Examples
    --------
    >>> result = CVResult(
    ...     history=CVHistory([{"val_mae": [3.0, 2.0]}, {"val_mae": [2.6, 2.2]}]),
    ...     folds=[(np.array([1]), np.array([0])), (np.array([0]), np.array([1]))],
    ...     scores={"val_mae": np.array([2.0, 2.2])},
    ...     fit_times=np.array([1.0, 1.0]), score_times=np.array([0.1, 0.1]), params={})
    >>> result.n_folds, result.default_key()
    (2, 'val_mae')
    >>> print(result.best_epoch())
    epoch 2 (val_mae: mean 2.1 ± 0.141 std with ddof=1; 2 folds)
    """

    kind: ClassVar[str] = "cv_result"

    history: CVHistory
    folds: list
    scores: dict
    fit_times: np.ndarray
    score_times: np.ndarray
    params: dict
    models: list | None = None
    preprocessors: list | None = None
    errors: dict = dataclasses.field(default_factory=dict)
    predictions: list | None = None

    @property
    def oof_predictions(self) -> Any:
        """Out-of-fold predictions in the original sample order (``return_predictions=True``).

        Each sample is predicted by the model of the fold that held it out: an
        array ``(n_samples, *output_shape)`` (a dict of them for several outputs),
        NaN for rows no fold validated (a holdout's training rows, a failed fold's
        rows). For a repeated splitter (``RepeatedKFold``) the shape is
        ``(n_repeats, n_samples, ...)``, one full set per repetition. A splitter
        that validates a sample twice within a repetition (``ShuffleSplit``) has
        no such array: use :attr:`predictions`, per fold.

        Examples
        --------
        >>> result = CVResult(CVHistory([{"loss": [1.0]}, {"loss": [1.0]}]),
        ...                   [(np.array([1]), np.array([0])), (np.array([0]), np.array([1]))],
        ...                   {"loss": np.array([1.0, 1.0])}, np.ones(2), np.ones(2), {"n_samples": 2},
        ...                   predictions=[np.array([[0.5]]), np.array([[0.7]])])
        >>> result.oof_predictions.ravel()
        array([0.5, 0.7])
        """
        if self.predictions is None:
            raise AttributeError("This result holds no predictions: run cross_validate(..., "
                                 "return_predictions=True) to keep each fold's held-out predictions.")
        n = self.params.get("n_samples") or 1 + max(int(np.max(np.concatenate(f))) for f in self.folds)
        return oof_array(self.predictions, self.folds, int(n), int(self.params.get("n_repeats", 1)))

    def ensemble(self, method: str = "mean") -> Any:
        """The fold models as one predictor: :class:`kfold.FoldEnsemble` (needs ``return_models=True``).

        Each fold's model keeps its own fold's fitted preprocessing; ``predict``
        combines their predictions with ``method`` (``"mean"``, ``"median"`` or
        ``"vote"``). A result loaded from disk has no models: run again with
        ``return_models=True`` (a run directory saved with ``return_models=True,
        save_weights=True`` keeps their weights, see :meth:`kfold.FoldEnsemble.from_run_dir`).

        Examples
        --------
        >>> CVResult(CVHistory([{"loss": [1.0]}]), [(np.array([1]), np.array([0]))],
        ...          {"loss": np.array([1.0])}, np.ones(1), np.ones(1), {}).ensemble()
        Traceback (most recent call last):
        ...
        ValueError: Invalid `result`. Expected a result that holds its fold models. Received: result=a result without models. Run cross_validate(..., return_models=True), or rebuild them from a run directory saved with return_models=True and run_dir=kfold.RunDir(path, save_weights=True): FoldEnsemble.from_run_dir(run_dir, build_fn, x)
        """
        from kfold.results.ensemble import FoldEnsemble

        return FoldEnsemble.from_result(self, method=method)

    def __post_init__(self) -> None:
        self.scores = HeldOutScores(self.scores)

    @property
    def n_folds(self) -> int:
        """Number of folds."""
        return len(self.folds)

    @property
    def folds_hash(self) -> str:
        """SHA-256 of the fold indices: equal hashes mean identical folds."""

        return folds_hash(self.folds)

    def default_key(self) -> str:
        """The key epochs are selected on by default: ``val_loss``, as in the searches.

        A history without ``val_loss`` gives its first validation key (else its first key).
        """
        keys = self.history.keys()
        if "val_loss" in keys or not keys:
            return "val_loss"
        return next((k for k in keys if k.startswith("val_")), keys[0])

    def best_epoch(self, key: str | None = None, **kwargs: Any) -> Any:
        """:func:`kfold.best_epoch` on this result; ``key`` defaults to :meth:`default_key`."""

        return best_epoch(self, key or self.default_key(), **kwargs)

    def summary(self, key: str | None = None, *, skip: int = 0, smooth: float | None = None,
                rule: str = "min", mode: str = "auto", ddof: int = 1,
                print_fn: Callable[[str], Any] = print) -> None:
        """Print per-fold held-out scores, their mean ± std and the selected epoch.

        A single split (``HoldoutSplit``, ``ShuffleSplit(n_splits=1)``) is
        reported as one, without a spread. A note follows the selected epoch
        when it is the last one (train longer) or the curve is flat.

        Parameters
        ----------
        key : str, optional
            History key the epoch is selected on (default :meth:`default_key`,
            ``val_loss``, as in the searches).
        skip, smooth, rule, mode
            As in :func:`kfold.best_epoch`.
        ddof : {1, 0}, default 1
            The std's convention: 1 the sample std, 0 ``np.std``'s (population).
        print_fn : callable
            Called with the text (default ``print``).

        Examples
        --------
        >>> CVResult(CVHistory([{"val_loss": [1.0, 0.8]}]), [(np.array([1]), np.array([0]))],
        ...          {"loss": np.array([0.8])}, np.array([2.0]), np.array([0.1]), {}).summary()
        split  train  val  val_loss    fit (s)
        1      1      1    0.8000      2.0
        held-out scores of the validation split: val_loss 0.8000
        selected epoch: epoch 2 (val_loss: mean 0.8; 1 fold)
        note: still improving at epoch 2: train longer
        """
        ddof = check_ddof(ddof)
        keys = list(self.scores)
        single = self.n_folds == 1
        joint = self.params.get("strategy") == "fused"  # one joint time, shown shared equally
        lines = [f"{'split' if single else 'fold':<7}train  val  " + "".join(f"{k:<11} " for k in keys)
                 + ("fit (s)*" if joint else "fit (s)")]
        for i, (train, val) in enumerate(self.folds):
            cells = "".join(f"{self.scores[k][i]:<11.4f} " for k in keys)  # a space even between wide values
            lines.append(f"{i + 1:<7}{len(train):<7}{len(val):<5}{cells}{self.fit_times[i]:.1f}")
        if joint:
            lines.append(f"* the folds trained together: {np.nansum(self.fit_times):.1f} s in all, shared equally")
        ok = self.n_folds - len(self.errors)
        if single:
            values = ", ".join(f"{k} {v[0]:.4f}" for k, v in self.scores.items())
            lines.append(f"held-out scores of the validation split: {values}")
        else:
            spread = ", ".join(f"{k} {np.nanmean(v):.4f} ± {fold_std(v, ddof):.4f}" for k, v in self.scores.items())
            lines.append(f"mean ± std (ddof={ddof}) over {ok} folds: {spread}")
        lines += [f"fold {i + 1} failed: {error.strip().splitlines()[-1]}" for i, error in sorted(self.errors.items())]
        selection = self.best_epoch(key, skip=skip, smooth=smooth, rule=rule, mode=mode, ddof=ddof)
        lines.append(f"selected epoch: {selection}")
        if selection.note:
            lines.append(f"note: {selection.note}")
        print_fn("\n".join(lines))

    def to_dict(self) -> dict:
        """Plain Python types for JSON (models are left out).

        Examples
        --------
        >>> r = CVResult(CVHistory([{"loss": [1.0]}]), [(np.array([1]), np.array([0]))],
        ...              {"loss": np.array([1.0])}, np.array([2.0]), np.array([0.1]), {"epochs": 1})
        >>> import json
        >>> CVResult.from_dict(json.loads(json.dumps(r.to_dict()))).params
        {'epochs': 1}
        """
        return {
            "history": self.history.to_dict(),
            "folds": folds_to_json(self.folds),
            "scores": {k: [_plain_float(v) for v in values] for k, values in self.scores.items()},
            "fit_times": [float(t) for t in self.fit_times],
            "score_times": [float(t) for t in self.score_times],
            "params": self.params,
            "errors": {str(fold): error for fold, error in self.errors.items()},
            **({} if self.predictions is None else
               {"predictions": [predictions_to_json(p) for p in self.predictions]}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "CVResult":
        """Rebuild a result from :meth:`to_dict` output."""
        return cls(
            history=CVHistory.from_dict(data["history"]),
            folds=folds_from_json(data["folds"]),
            scores={k: np.array([np.nan if v is None else v for v in values], dtype=float)
                    for k, values in data["scores"].items()},
            fit_times=np.asarray(data["fit_times"], dtype=float),
            score_times=np.asarray(data["score_times"], dtype=float),
            params=data["params"],
            errors={int(fold): error for fold, error in data.get("errors", {}).items()},
            predictions=(None if data.get("predictions") is None else
                         [predictions_from_json(p) for p in data["predictions"]]),
        )


    def __repr__(self) -> str:
        return (f"CVResult(n_folds={self.n_folds}, epochs_run={self.history.epochs_run}, "
                f"keys={self.history.keys()})")


def _plain_float(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
