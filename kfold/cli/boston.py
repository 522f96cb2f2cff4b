"""``kfold boston``: the book's Boston housing k-fold example end to end, and the book's model.

Examples
--------
    kfold boston                      # 4 folds x 500 epochs (the book's run), plot saved to boston_val_mae.png
    kfold boston --cv 4 --epochs 100 --plot curve.png --save-result boston.json
"""
from __future__ import annotations

import argparse
import time
from typing import Any

from kfold.core import import_keras

__all__ = ["build_book_model", "run_boston", "add_boston_arguments", "use_matplotlib_agg"]


def build_book_model(n_features: int = 13) -> Any:
    """The book's Boston model (listing 3.25): two Dense(64, relu) layers and a linear unit.

    Examples
    --------
    >>> build_book_model().count_params()
    5121
    """

    keras = import_keras()
    model = keras.Sequential([
        keras.Input((n_features,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def add_boston_arguments(boston: argparse.ArgumentParser) -> None:
    """The options of ``kfold boston`` (``--folds`` and ``--quiet`` are the deprecated spellings).

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_boston_arguments(parser)
    >>> parser.parse_args(["--cv", "3"]).cv
    3
    """
    boston.add_argument("--cv", type=int, default=None, help="number of folds (default 4), as cross_validate's cv")
    boston.add_argument("--folds", type=int, default=None, help="deprecated spelling of --cv")
    boston.add_argument("--epochs", type=int, default=500, help="epochs per fold (default 500, as in the book)")
    boston.add_argument("--batch-size", type=int, default=16, help="batch size (default 16)")
    boston.add_argument("--skip", type=int, default=10, help="first epochs left out of the selection (default 10)")
    boston.add_argument("--smooth", type=float, default=0.9, help="smoothing factor, 0 for none (default 0.9)")
    boston.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    boston.add_argument("--plot", default="boston_val_mae.png", help="where to save the validation curve")
    boston.add_argument("--save-result", help="also save the result as JSON here")
    boston.add_argument("--no-final", action="store_true", help="skip retraining the final model")
    boston.add_argument("--verbose", type=int, choices=(0, 1, 2), default=None,
                        help="0 silent, 1 a progress bar and a line per fold (default), 2 also Keras' epochs")
    boston.add_argument("--quiet", action="store_true", help="deprecated spelling of --verbose 0")


def use_matplotlib_agg() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (no window is opened)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def run_boston(args: argparse.Namespace) -> None:
    """Cross-validate the book's model on Boston, print the summary, save the plot."""
    import kfold

    (x, y), (x_test, y_test) = kfold.datasets.load_boston_housing()
    smooth = args.smooth or None
    print(f"Boston housing: {len(x)} training samples, {x.shape[1]} features; "
          f"{args.cv} folds x {args.epochs} epochs, batch size {args.batch_size}, seed {args.seed}")
    start = time.perf_counter()
    result = kfold.cross_validate(build_book_model, x, y, cv=args.cv, epochs=args.epochs,
                                  batch_size=args.batch_size, preprocess=kfold.Standardize(),
                                  seed=args.seed, verbose=args.verbose)
    print(f"Cross-validation took {time.perf_counter() - start:.1f} s")
    result.summary("val_mae", skip=args.skip, smooth=smooth)
    _save_plot(result, args.plot, skip=args.skip, smooth=smooth)
    if args.save_result:
        result.save(args.save_result)
        print(f"Result saved to {args.save_result}")
    if not args.no_final:
        epochs = result.best_epoch("val_mae", skip=args.skip, smooth=smooth).epoch
        final = kfold.fit_final(build_book_model, x, y, epochs=epochs, batch_size=args.batch_size,
                                preprocess=kfold.Standardize(), seed=args.seed, verbose=0)  # the line below says it
        mae = final.evaluate(x_test, y_test)["mae"]
        print(f"Final model: {epochs} epochs on all {len(x)} samples; test MAE {mae:.2f} "
              f"(${mae * 1000:,.0f}) on {len(x_test)} test samples")


def _save_plot(result: Any, path: str, *, skip: int, smooth: float | None) -> None:
    plt = use_matplotlib_agg()
    import kfold

    fig, ax = plt.subplots(figsize=(8, 5))
    kfold.plot_history(result, "val_mae", skip=skip, smooth=smooth, ax=ax, path=path)
    plt.close(fig)
    print(f"Validation curve saved to {path}")
