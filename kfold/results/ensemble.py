"""The fold models as one predictor: :class:`FoldEnsemble`.

After k-fold cross-validation there are K trained models, each with the
preprocessing fitted on its own training part. Averaging their predictions on
new data is the other way (besides a refit on all the data, :func:`kfold.fit_final`)
to get a model for the test set: nnU-Net's default, AutoGluon's bagging.

When to prefer which:

* ``FoldEnsemble`` needs no extra training and no choice of epoch count for a
  refit; each member saw ``(K-1)/K`` of the data, and averaging K models lowers
  the variance of the predictions (often a better test score than one model,
  above all for small, noisy data sets). It costs K times the prediction time
  and storage.
* ``fit_final`` gives one model trained on all the data (the book's way), K times
  cheaper to serve; its number of epochs comes from the cross-validation, and it
  cannot be checked on held-out data any more.

Saved as a folder: ``ensemble.json`` (method, the fitted preprocessing of each
fold as JSON for :class:`kfold.Standardize`, else pickled) and one Keras
``fold_000.keras`` file per model; :func:`kfold.load` reads it back.
"""
from __future__ import annotations

import json
import os
import pickle
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kfold.core import import_keras
from kfold.core import Described, check_choice, fail
from kfold.core import package_versions, write_json
from kfold.data import take
from kfold.data import Standardize, apply_preprocess, fit_preprocess
from kfold.results.predictions import predict_rows, quiet_retracing

__all__ = ["FoldEnsemble", "ENSEMBLE_FILE", "METHODS"]

ENSEMBLE_FILE = "ensemble.json"
METHODS = ("mean", "median", "vote")


def _to_labels(p: np.ndarray) -> np.ndarray:
    """Class labels from probabilities: argmax over classes, or > 0.5 for one sigmoid output."""
    p = np.asarray(p)
    if p.ndim >= 2 and p.shape[-1] > 1:
        return np.argmax(p, axis=-1)
    return (p.reshape(p.shape[0], -1)[:, 0] > 0.5).astype(np.int64)


def _combine(stack: np.ndarray, method: str) -> np.ndarray:
    """Combine predictions stacked on axis 0 (one row per model)."""
    if method == "mean":
        return stack.mean(axis=0)
    if method == "median":
        return np.median(stack, axis=0)
    labels = np.stack([_to_labels(p) for p in stack])  # (n_models, n_samples)
    n_classes = int(labels.max()) + 1
    counts = np.stack([(labels == c).sum(axis=0) for c in range(n_classes)], axis=-1)
    return np.argmax(counts, axis=-1)  # a tie goes to the smallest label


def _preprocess_to_json(step: Any, folder: Path, name: str) -> Any:
    if step is None:
        return None
    if isinstance(step, dict):
        return {"dict": {k: _preprocess_to_json(v, folder, f"{name}_{k}") for k, v in step.items()}}
    if isinstance(step, (list, tuple)):
        return {"list": [_preprocess_to_json(v, folder, f"{name}_{i}") for i, v in enumerate(step)]}
    if type(step) is Standardize and hasattr(step, "mean_"):
        return {"standardize": {"mean": np.asarray(step.mean_).tolist(), "std": np.asarray(step.std_).tolist()}}
    file = folder / f"{name}.preprocess.pkl"
    file.write_bytes(pickle.dumps(step))
    return {"pickle": file.name}


def _preprocess_from_json(data: Any, folder: Path) -> Any:
    if data is None:
        return None
    if "dict" in data:
        return {k: _preprocess_from_json(v, folder) for k, v in data["dict"].items()}
    if "list" in data:
        return [_preprocess_from_json(v, folder) for v in data["list"]]
    if "standardize" in data:
        step = Standardize()
        step.mean_ = np.asarray(data["standardize"]["mean"], dtype=np.float64)
        step.std_ = np.asarray(data["standardize"]["std"], dtype=np.float64)
        return step
    return pickle.loads((folder / data["pickle"]).read_bytes())  # noqa: S301 - a folder this library wrote


class FoldEnsemble:
    """The K fold models of a cross-validation, each with its own fold's fitted preprocessing.

    Made by :meth:`kfold.CVResult.ensemble` (``cross_validate(..., return_models=True)``)
    or :meth:`from_run_dir`; see the module docstring for when to prefer it over
    :func:`kfold.fit_final`.

    Parameters
    ----------
    models : list of keras.Model
        The trained fold models.
    preprocessors : list, optional
        Each model's fitted preprocessing (``None`` entries, or no list, for none).
    method : {"mean", "median", "vote"}
        How :meth:`predict` combines the models: ``"mean"`` (regression, and
        class probabilities), ``"median"`` (regression, robust to one bad
        fold), ``"vote"`` (class labels: each model's argmax, or ``> 0.5`` for one
        sigmoid output, and the most frequent label).

    Examples
    --------
    >>> import keras
    >>> def model(bias):
    ...     m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="zeros",
    ...                                                                 bias_initializer=keras.initializers.Constant(bias))])
    ...     m.compile(loss="mse", metrics=["mae"])
    ...     return m
    >>> ensemble = FoldEnsemble([model(1.0), model(2.0), model(6.0)])
    >>> ensemble.predict(np.zeros((2, 1))).ravel().tolist(), ensemble.predict(np.zeros((1, 1)), method="median").item()
    ([3.0, 3.0], 2.0)
    >>> ensemble.evaluate(np.zeros((2, 1)), np.array([3.0, 5.0]))
    {'loss': 2.0, 'mae': 1.0}
    """

    def __init__(self, models: Sequence[Any], preprocessors: Sequence[Any] | None = None,
                 method: str = "mean") -> None:
        models = [m for m in models]
        if not models or any(m is None for m in models):
            fail("models", "a non-empty list of trained Keras models", Described(f"{len(models)} entries"))
        preprocessors = list(preprocessors) if preprocessors is not None else [None] * len(models)
        if len(preprocessors) != len(models):
            fail("preprocessors", f"one entry (or None) per model ({len(models)})",
                 Described(f"{len(preprocessors)} entries"))
        check_choice("method", method, METHODS)
        self.models, self.preprocessors, self.method = models, preprocessors, method

    @classmethod
    def from_result(cls, result: Any, method: str = "mean") -> "FoldEnsemble":
        """The fold models of a :class:`kfold.CVResult` kept with ``return_models=True`` (failed folds left out)."""
        if result.models is None:
            fail("result", "a result that holds its fold models", Described("a result without models"),
                 "Run cross_validate(..., return_models=True), or rebuild them from a run directory saved "
                 "with return_models=True and run_dir=kfold.RunDir(path, save_weights=True): "
                 "FoldEnsemble.from_run_dir(run_dir, build_fn, x)")
        pairs = [(m, p) for i, (m, p) in enumerate(zip(result.models, result.preprocessors or [None] * len(result.models)))
                 if m is not None and i not in result.errors]
        return cls([m for m, _ in pairs], [p for _, p in pairs], method=method)

    @classmethod
    def from_run_dir(cls, path: str | os.PathLike, build_fn: Any, x: Any = None, *, preprocess: Any = None,
                     method: str = "mean") -> "FoldEnsemble":
        """Rebuild the fold models of a run directory saved with ``return_models=True, save_weights=True``.

        Each model is ``build_fn()`` with that fold's saved weights; the
        preprocessing (the same ``preprocess`` as the run's, given again, for
        example ``kfold.Standardize()``) is fitted again on each fold's
        training rows of ``x``, which gives the run's statistics back for a
        deterministic step such as :class:`kfold.Standardize`.
        """
        from kfold.split import folds_from_json

        folder = Path(path)
        try:  # read here, not through results.rundir (which imports the results this module serves)
            folds = folds_from_json(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["folds"])
        except (OSError, ValueError, KeyError):
            fail("path", "a cross_validate run directory with a readable manifest.json", Described(str(path)))
        done = []
        for file in sorted((folder / "folds").glob("fold_*.json")):
            try:
                outcome = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a damaged fold is left out
            if outcome.get("error") is None:
                done.append(int(outcome["fold"]))
        weights = [folder / "folds" / f"fold_{f:03d}.weights.h5" for f in done]  # as RunFolder.weights_file
        missing = [str(w) for w in weights if not w.exists()]
        if not done or missing:
            fail("path", "a run directory saved with return_models=True and run_dir=kfold.RunDir(path, save_weights=True)",
                 Described(f"{path} without {missing[0] if missing else 'finished folds'}"))
        if preprocess is not None and x is None:
            fail("x", "the training data of the run, to fit each fold's preprocessing again", x)
        models, steps = [], []
        for fold, file in zip(done, weights):
            model = build_fn()
            with warnings.catch_warnings():  # the optimizer's slots: not needed to predict
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                model.load_weights(file)
            models.append(model)
            steps.append(fit_preprocess(preprocess, take(x, folds[fold][0]))[0] if preprocess is not None else None)
        return cls(models, steps, method=method)

    def __len__(self) -> int:
        return len(self.models)

    def predict_each(self, x: Any, batch_size: int = 256) -> list:
        """Every model's predictions on ``x``, each after its own fold's preprocessing."""
        return [predict_rows(m, apply_preprocess(p, x), batch_size) for m, p in zip(self.models, self.preprocessors)]

    def predict(self, x: Any, *, method: str | None = None, batch_size: int = 256) -> Any:
        """Combine the models' predictions on ``x`` with ``method`` (default: the ensemble's).

        Returns an array like ``model.predict``'s (``"vote"``: labels, shape
        ``(n_samples,)``), or a dict of them for several outputs.
        """
        method = self.method if method is None else method
        check_choice("method", method, METHODS)
        each = self.predict_each(x, batch_size)
        if isinstance(each[0], dict):
            return {name: _combine(np.stack([p[name] for p in each]), method) for name in each[0]}
        return _combine(np.stack(each), method)

    def evaluate(self, x: Any, y: Any, *, sample_weight: Any = None, method: str | None = None,
                 batch_size: int = 256) -> dict[str, float]:
        """The first model's compiled loss and metrics, computed on the combined predictions.

        ``"vote"`` gives labels, which a loss cannot score: the mean is scored then.
        """
        keras = import_keras()
        method = self.method if method is None else method
        method = "mean" if method == "vote" else method
        predictions = self.predict(x, method=method, batch_size=batch_size)
        if isinstance(predictions, dict):
            fail("model", "a single-output model for evaluate()", Described(f"outputs {sorted(predictions)}"),
                 "Score each output of ensemble.predict(x) yourself")
        reference = self.models[0]
        config = reference.get_compile_config() if hasattr(reference, "get_compile_config") else None
        if not config:
            fail("models", "compiled models (their loss and metrics score the ensemble)", Described("uncompiled models"))
        identity = keras.Sequential([keras.Input(predictions.shape[1:]), keras.layers.Identity()])
        identity.compile_from_config(config)
        with quiet_retracing():
            scores = identity.evaluate(predictions, np.asarray(y), sample_weight=sample_weight, verbose=0,
                                       batch_size=batch_size, return_dict=True)
        return {k: float(v) for k, v in scores.items()}

    def save(self, path: str | os.PathLike) -> None:
        """Write the ensemble to the folder ``path``: one ``.keras`` file per model, then ``ensemble.json``.

        ``ensemble.json`` is written last (atomically), so a folder is complete
        when it has one; :func:`kfold.load` and :meth:`load` read it back.
        """
        folder = Path(path)
        if folder.exists() and any(folder.iterdir()) and not (folder / ENSEMBLE_FILE).exists():
            fail("path", "a new folder, or one that holds a saved FoldEnsemble", Described(f"{folder}, not empty"))
        folder.mkdir(parents=True, exist_ok=True)
        for i, model in enumerate(self.models):
            model.save(folder / f"fold_{i:03d}.keras")
        steps = [_preprocess_to_json(p, folder, f"fold_{i:03d}") for i, p in enumerate(self.preprocessors)]
        write_json(folder / ENSEMBLE_FILE, {"kind": "fold_ensemble", "method": self.method,
                                            "models": [f"fold_{i:03d}.keras" for i in range(len(self))],
                                            "preprocessors": steps, "versions": package_versions()})

    @classmethod
    def load(cls, path: str | os.PathLike, *, custom_objects: dict | None = None) -> "FoldEnsemble":
        """Read a folder written by :meth:`save` (``custom_objects`` as in ``keras.models.load_model``)."""
        keras = import_keras()
        folder = Path(path)
        try:
            data = json.loads((folder / ENSEMBLE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            fail("path", f"a folder written by FoldEnsemble.save (with {ENSEMBLE_FILE})", Described(str(folder)))
        models = [keras.models.load_model(folder / name, custom_objects=custom_objects) for name in data["models"]]
        steps = [_preprocess_from_json(p, folder) for p in data["preprocessors"]]
        return cls(models, steps, method=data.get("method", "mean"))

    def __repr__(self) -> str:
        return f"FoldEnsemble(n_models={len(self)}, method={self.method!r})"
