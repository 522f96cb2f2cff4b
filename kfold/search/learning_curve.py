"""``learning_curve``: would more data help? Cross-validation at growing training sizes.

scikit-learn's ``learning_curve`` for Keras models, with the per-epoch curves
kept: the folds are drawn once; at every training size each fold trains on a
subset of its own training rows and is validated on its unchanged validation
part, so the sizes differ only in how much data the models saw. Each size's
full :class:`~kfold.CVResult` is kept, and the train and validation metric are
read at each size's own selected epoch (a small training set overfits sooner).

``train_sizes`` follows scikit-learn: floats are fractions in ``(0, 1]`` of the
largest size every fold can give (its smallest training part, which is the
first fold's for ``KFold``, as scikit-learn takes), ints are absolute counts;
duplicates after rounding are dropped with a warning. Every fold uses the same
count. A fold's subsets are nested (each size adds rows to the previous one),
drawn at random from its training rows with the run's seed.

All sizes' folds are trained by one :func:`kfold.cross_validate` call with
explicit ``(train, val)`` pairs, so they are fused into one compiled graph where
the model allows it (and can share one ``run_dir``, resumed as a whole).
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Callable, ClassVar

import numpy as np

from kfold.core import Described, fail
from kfold.core import resolve_seed
from kfold.data import as_arrays, n_samples
from kfold.results import CVResult
from kfold.results import CVHistory
from kfold.results import Saved
from kfold.train import cross_validate, plan_folds, pop_run_options

__all__ = ["translate_train_sizes", "learning_curve", "LearningCurveResult"]

DEFAULT_TRAIN_SIZES = (0.1, 0.325, 0.55, 0.775, 1.0)  # scikit-learn's np.linspace(0.1, 1.0, 5)


def translate_train_sizes(train_sizes: Any, n_max: int) -> np.ndarray:
    """Absolute training sizes from fractions of ``n_max`` (floats) or counts (ints), as scikit-learn does.

    Examples
    --------
    >>> translate_train_sizes([0.1, 0.55, 1.0], 300).tolist()
    [30, 165, 300]
    >>> translate_train_sizes([10, 300], 300).tolist()
    [10, 300]
    >>> translate_train_sizes([0.5, 1.5], 300)
    Traceback (most recent call last):
    ...
    ValueError: Invalid `train_sizes`. Expected fractions in (0, 1] of the 300 training rows every fold has (floats), or counts in [1, 300] (ints). Received: train_sizes=array([0.5, 1.5])
    """
    sizes = np.asarray(train_sizes)
    expected = (f"fractions in (0, 1] of the {n_max} training rows every fold has (floats), "
                f"or counts in [1, {n_max}] (ints)")
    if sizes.ndim != 1 or len(sizes) == 0 or sizes.dtype.kind not in "iuf":
        fail("train_sizes", expected, train_sizes)
    if sizes.dtype.kind == "f":
        if sizes.min() <= 0 or sizes.max() > 1:
            fail("train_sizes", expected, sizes)
        absolute = np.clip((sizes * n_max).astype(int), 1, n_max)
    else:
        if sizes.min() <= 0 or sizes.max() > n_max:
            fail("train_sizes", expected, sizes)
        absolute = sizes.astype(int)
    unique = np.unique(absolute)
    if len(unique) < len(absolute):
        warnings.warn(f"Removed duplicate entries from train_sizes: {len(unique)} sizes instead of "
                      f"{len(absolute)} ({absolute.tolist()} -> {unique.tolist()}).", RuntimeWarning, stacklevel=3)
    return unique


def _spread(values: np.ndarray) -> np.ndarray:
    """NaN-aware sample std (ddof=1) per row; NaN with fewer than two values."""
    out = np.full(values.shape[0], np.nan)
    for i, row in enumerate(values):
        row = row[np.isfinite(row)]
        if len(row) > 1:
            out[i] = np.std(row, ddof=1)
    return out


@dataclasses.dataclass(eq=False)
class LearningCurveResult(Saved):
    """Cross-validation at several training sizes, on the same folds.

    Attributes
    ----------
    train_sizes_abs : np.ndarray
        Training rows per fold at each size (ints, increasing).
    results : list of CVResult
        Each size's full cross-validation (curves, scores, folds).
    key : str
        The validation key the epoch is selected on and scored (``"val_mae"``).
    selected_epochs : np.ndarray
        Each size's selected epoch (1-based) on its mean ``key`` curve.
    train_scores, val_scores : np.ndarray
        ``(n_sizes, n_folds)``: each fold's training metric (Keras' epoch log,
        ``"mae"`` for ``"val_mae"``) and validation metric at its size's selected
        epoch (NaN for a fold that had stopped before it).

    Examples
    --------
    >>> from kfold.search.learning_curve import doctest_learning_curve
    >>> curve = doctest_learning_curve()
    >>> curve.train_sizes_abs.tolist(), curve.val_mean.round(2).tolist()
    ([2, 4], [3.0, 2.0])
    >>> curve.summary()
    train size  epoch  mae (train)      val_mae (validation)
    2           2      1.5000 ± 0.7071  3.0000 ± 1.4142
    4           1      0.7500 ± 0.3536  2.0000 ± 0.7071
    (mean ± sample std, ddof=1, over 2 folds at each size's selected epoch)
    """

    kind: ClassVar[str] = "learning_curve"

    train_sizes_abs: np.ndarray
    results: list
    key: str
    selected_epochs: np.ndarray
    train_scores: np.ndarray
    val_scores: np.ndarray

    @property
    def train_key(self) -> str:
        """The training metric matching :attr:`key` (``"mae"`` for ``"val_mae"``)."""
        return self.key.removeprefix("val_")

    @property
    def train_mean(self) -> np.ndarray:
        """Mean training metric over folds, per size."""
        return np.array([np.nanmean(row) if np.isfinite(row).any() else np.nan for row in self.train_scores])

    @property
    def val_mean(self) -> np.ndarray:
        """Mean validation metric over folds, per size."""
        return np.array([np.nanmean(row) if np.isfinite(row).any() else np.nan for row in self.val_scores])

    @property
    def train_std(self) -> np.ndarray:
        """Sample std (ddof=1) of the training metric over folds, per size."""
        return _spread(self.train_scores)

    @property
    def val_std(self) -> np.ndarray:
        """Sample std (ddof=1) of the validation metric over folds, per size."""
        return _spread(self.val_scores)

    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print each size's selected epoch and its train and validation metric (mean ± std)."""
        train, val = f"{self.train_key} (train)", f"{self.key} (validation)"
        lines = [f"{'train size':<12}{'epoch':<7}{train:<17}{val}"]
        for i, size in enumerate(self.train_sizes_abs):
            cell = lambda mean, std: f"{mean[i]:.4f} ± {std[i]:.4f}"  # noqa: E731
            lines.append(f"{int(size):<12}{int(self.selected_epochs[i]):<7}"
                         f"{cell(self.train_mean, self.train_std):<17}{cell(self.val_mean, self.val_std)}")
        lines.append(f"(mean ± sample std, ddof=1, over {self.val_scores.shape[1]} folds at each size's selected epoch)")
        print_fn("\n".join(lines))

    def to_dict(self) -> dict:
        """Plain Python types for JSON (every size's CVResult included, models left out)."""
        plain = lambda a: [[None if not np.isfinite(v) else float(v) for v in row] for row in a]  # noqa: E731
        return {"train_sizes_abs": [int(s) for s in self.train_sizes_abs], "key": self.key,
                "results": [r.to_dict() for r in self.results],
                "selected_epochs": [int(e) for e in self.selected_epochs],
                "train_scores": plain(self.train_scores), "val_scores": plain(self.val_scores)}

    @classmethod
    def from_dict(cls, data: dict) -> "LearningCurveResult":
        """Rebuild a learning curve from :meth:`to_dict` output."""
        array = lambda rows: np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)  # noqa: E731
        return cls(np.asarray(data["train_sizes_abs"], dtype=int), [CVResult.from_dict(r) for r in data["results"]],
                   data["key"], np.asarray(data["selected_epochs"], dtype=int),
                   array(data["train_scores"]), array(data["val_scores"]))

    def __repr__(self) -> str:
        return f"LearningCurveResult(train_sizes_abs={self.train_sizes_abs.tolist()}, key={self.key!r})"


def _subset(result: CVResult, index: list[int], params: dict) -> CVResult:
    """The folds ``index`` of one cross-validation as a CVResult of their own."""
    pick = lambda seq: None if seq is None else [seq[i] for i in index]  # noqa: E731
    return CVResult(
        history=CVHistory([result.history[i] for i in index]), folds=pick(result.folds),
        scores={k: v[index] for k, v in result.scores.items()}, fit_times=result.fit_times[index],
        score_times=result.score_times[index], params=params, models=pick(result.models),
        preprocessors=pick(result.preprocessors),
        errors={index.index(i): e for i, e in result.errors.items() if i in index},
        predictions=pick(result.predictions))


def _read_off(result: CVResult, key: str, selection: dict) -> tuple[int, np.ndarray, np.ndarray]:
    """The selected epoch (1-based) and each fold's train and validation metric there."""
    if not key.startswith("val_") or key not in result.history or key.removeprefix("val_") not in result.history:
        fail("key", f"a validation key ('val_...') whose training metric is logged too, one of "
                    f"{[k for k in result.history.keys() if k.startswith('val_')]}", key)
    epoch = result.best_epoch(key, **selection).epoch
    return (epoch, result.history[key.removeprefix("val_")][:, epoch - 1], result.history[key][:, epoch - 1])


def learning_curve(build_fn: Callable[[], Any], x: Any, y: Any, *, train_sizes: Any = DEFAULT_TRAIN_SIZES,
                   cv: Any = 5, epochs: int, key: str | None = None, skip: int = 0, smooth: float | None = None,
                   rule: str = "min", groups: Any = None, seed: int | None = None,
                   **kwargs: Any) -> LearningCurveResult:
    """Cross-validate at several training sizes on the same folds: does more data help?

    Parameters
    ----------
    build_fn, x, y, cv, epochs, groups, seed
        As in :func:`kfold.cross_validate`; the folds are drawn once.
    train_sizes : sequence of float or int, default (0.1, 0.325, 0.55, 0.775, 1.0)
        Fractions in ``(0, 1]`` of the training rows every fold has (its
        smallest training part), or absolute counts, as in scikit-learn.
    key : str, optional
        The validation key each size's epoch is selected on and reported
        (default: the first size's :meth:`~kfold.CVResult.default_key`); its
        training metric (``"mae"`` for ``"val_mae"``) must be logged too.
    skip, smooth, rule
        As in :func:`kfold.best_epoch`, for each size's epoch.
    **kwargs
        Any other :func:`kfold.cross_validate` argument (``batch_size``,
        ``preprocess``, ``callbacks``, ``strategy``, ``executor``, ``run_dir``,
        ``return_models``...).

    Returns
    -------
    LearningCurveResult

    Examples
    --------
    >>> import numpy as np, kfold
    >>> from kfold.train.keras_fit import doctest_model
    >>> x, y = np.random.rand(20, 2), np.random.rand(20)
    >>> curve = kfold.learning_curve(doctest_model, x, y, train_sizes=[0.5, 1.0], cv=4, epochs=2,
    ...                              seed=0, verbose=0)
    >>> curve.train_sizes_abs.tolist(), [len(r.folds[0][0]) for r in curve.results]
    ([7, 15], [7, 15])
    """
    if key is not None and not (isinstance(key, str) and key.startswith("val_")):
        fail("key", "a validation key ('val_...') whose training metric is logged too", key)
    executor, run_dir = pop_run_options("learning_curve", kwargs)
    seed = resolve_seed(seed)
    n = n_samples(as_arrays(x, "x"))
    tasks = plan_folds(cv, n, as_arrays(y, "y"), as_arrays(groups, "groups"), seed=seed)
    sizes = translate_train_sizes(train_sizes, min(len(t.train) for t in tasks))
    orders = [np.random.default_rng([seed, t.fold]).permutation(t.train) for t in tasks]
    pairs = [(np.sort(order[:size]), t.val) for size in sizes for order, t in zip(orders, tasks)]
    joint = cross_validate(build_fn, x, y, cv=pairs, epochs=epochs, groups=groups, seed=seed, executor=executor,
                           run_dir=run_dir, **kwargs)
    if len(joint.folds) != len(pairs):
        fail("run", "every fold of every training size finished", Described(f"{len(joint.folds)} of {len(pairs)}"))
    k = len(tasks)
    results = [_subset(joint, list(range(i * k, (i + 1) * k)), {**joint.params, "train_size": int(size),
                                                                "cv": repr(cv), "n_splits": k})
               for i, size in enumerate(sizes)]
    key = key or results[0].default_key()
    selection = {"skip": skip, "smooth": smooth, "rule": rule}
    read = [_read_off(r, key, selection) for r in results]
    return LearningCurveResult(sizes, results, key, np.array([e for e, _, _ in read]),
                               np.stack([t for _, t, _ in read]), np.stack([v for _, _, v in read]))


def doctest_learning_curve() -> LearningCurveResult:
    """A tiny learning curve without training, for the examples."""
    def result(mae: list, val_mae: list, size: int) -> CVResult:
        history = CVHistory([{"mae": m, "val_mae": v} for m, v in zip(mae, val_mae)])
        folds = [(np.arange(size), np.arange(size, size + 2))] * 2
        return CVResult(history, folds, {"mae": np.array([v[-1] for v in val_mae])}, np.ones(2), np.ones(2),
                        {"train_size": size})
    small = result([[2.0, 1.0], [3.0, 2.0]], [[5.0, 2.0], [6.0, 4.0]], 2)
    large = result([[0.5, 0.4], [1.0, 0.8]], [[1.5, 2.0], [2.5, 3.0]], 4)
    read = [_read_off(r, "val_mae", {}) for r in (small, large)]
    return LearningCurveResult(np.array([2, 4]), [small, large], "val_mae", np.array([e for e, _, _ in read]),
                               np.stack([t for _, t, _ in read]), np.stack([v for _, _, v in read]))
