"""The final model: trained on all the training data for the selected epochs (listing 3.32)."""
from __future__ import annotations

import time
from typing import Any, Callable, NamedTuple

from kfold.core import check_choice
from kfold.core import resolve_seed, user_random_state
from kfold.data import as_arrays, n_samples
from kfold.data import apply_preprocess, fit_preprocess
from kfold.train.run.planned import check_inputs
from kfold.train.fold import FitConfig
from kfold.train.keras_fit import build_model, check_build_fn, check_callbacks, train_model, validation_batch_size
from kfold.train.run.progress import format_scores

__all__ = ["FinalModel", "fit_final"]


class FinalModel(NamedTuple):
    """A trained model with the preprocessing fitted on its training data.

    Unpacks like a pair: ``model, preprocess = fit_final(...)``. ``predict`` and
    ``evaluate`` apply the preprocessing first, so raw test data can be passed.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> import numpy as np, kfold
    >>> x, y = np.random.rand(20, 2), np.random.rand(20)
    >>> final = kfold.fit_final(doctest_model, x, y, epochs=2, preprocess=kfold.Standardize(), seed=0, verbose=0)
    >>> final.predict(x[:3]).shape
    (3, 1)
    >>> model, preprocess = final
    >>> preprocess.mean_.shape
    (2,)
    """

    model: Any
    preprocess: Any

    def transform(self, x: Any) -> Any:
        """``x`` with the fitted preprocessing applied (unchanged without one)."""
        return apply_preprocess(self.preprocess, as_arrays(x, "x"))

    def predict(self, x: Any, **kwargs: Any) -> Any:
        """``model.predict`` on preprocessed ``x`` (Keras' progress bar off by default)."""
        kwargs.setdefault("verbose", 0)
        return self.model.predict(self.transform(x), **kwargs)

    def evaluate(self, x: Any, y: Any, **kwargs: Any) -> dict:
        """``model.evaluate`` on preprocessed ``x``, as a dict of Keras' metric names."""
        kwargs.setdefault("verbose", 0)
        kwargs.setdefault("batch_size", validation_batch_size(32, n_samples(x)))
        return self.model.evaluate(self.transform(x), as_arrays(y, "y"), return_dict=True, **kwargs)


def fit_final(
    build_fn: Callable[[], Any], x: Any, y: Any, *, epochs: int, batch_size: int = 32,
    preprocess: Any = None, callbacks: list | None = None, fit_kwargs: dict | None = None,
    sample_weight: Any = None, seed: int | None = None, verbose: int = 1, nan_policy: str = "raise",
) -> FinalModel:
    """Train one model on all of ``x, y``, the way each fold was trained.

    Use the epoch selected by cross-validation (``result.best_epoch().epoch``):
    the book's listing 3.32 retrains for 80 epochs on all 404 samples.

    Parameters
    ----------
    build_fn, x, y, batch_size, preprocess, callbacks, fit_kwargs, sample_weight, seed, nan_policy
        As in :func:`kfold.cross_validate`.
    epochs : int
        How many epochs to train.
    verbose : {0, 1, 2}
        As in :func:`kfold.cross_validate`: 0 silent; 1 one line when the model
        is trained; 2 also Keras' line per epoch. (Before 0.2, ``verbose`` was
        Keras' own ``fit`` verbosity and defaulted to 0.)

    Returns
    -------
    FinalModel
        ``(model, preprocess)``: the trained model and the preprocessing fitted on
        all of ``x`` (``None`` without one). Keras keeps the per-epoch logs in
        ``model.history.history``.

    Examples
    --------
    >>> from kfold.train.keras_fit import doctest_model
    >>> import numpy as np
    >>> x, y = np.random.rand(20, 2), np.random.rand(20)
    >>> final = fit_final(doctest_model, x, y, epochs=3, seed=0, verbose=0)
    >>> len(final.model.history.history["loss"]), final.preprocess is None
    (3, True)
    """
    check_build_fn(build_fn)
    check_choice("verbose", verbose, (0, 1, 2))
    data, _, n = check_inputs(x, y, sample_weight, preprocess=preprocess, nan_policy=nan_policy)
    config = FitConfig(epochs=epochs, batch_size=batch_size, callbacks=check_callbacks(callbacks),
                       fit_kwargs=fit_kwargs)
    seed = resolve_seed(seed)
    start = time.perf_counter()
    fitted, x_train = fit_preprocess(preprocess, data.x)
    with user_random_state():
        model = build_model(build_fn, seed)
        logs = train_model(model, x_train, data.y, data.sample_weight, epochs=config.epochs,
                           batch_size=config.batch_size, seed=seed, callbacks=list(config.callbacks),
                           fit_kwargs=config.fit_kwargs, verbose=2 if verbose == 2 else 0)
    if verbose:
        last = {key: values[-1] for key, values in logs.items() if values}
        print(f"Final model: {len(logs.get('loss', []))} epochs on {n} samples - "
              f"{time.perf_counter() - start:.1f}s - {format_scores(last)}")
    return FinalModel(model, fitted)
