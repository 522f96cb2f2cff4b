"""Command line: ``kfold boston`` runs the book's k-fold example end to end.

Examples
--------
    kfold boston                      # 4 folds x 500 epochs (the book's run), plot saved to boston_val_mae.png
    kfold boston --epochs 100 --plot curve.png --save-result boston.json
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Sequence
from kfold.core.backend import import_keras

__all__ = ["main", "build_book_model"]


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kfold", description="Honest k-fold validation of Keras models.")
    sub = parser.add_subparsers(dest="command", required=True)
    boston = sub.add_parser("boston", help="the book's Boston housing k-fold example (listings 3.24-3.32)")
    boston.add_argument("--folds", type=int, default=4, help="number of folds (default 4)")
    boston.add_argument("--epochs", type=int, default=500, help="epochs per fold (default 500, as in the book)")
    boston.add_argument("--batch-size", type=int, default=16, help="batch size (default 16)")
    boston.add_argument("--skip", type=int, default=10, help="first epochs left out of the selection (default 10)")
    boston.add_argument("--smooth", type=float, default=0.9, help="smoothing factor, 0 for none (default 0.9)")
    boston.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    boston.add_argument("--plot", default="boston_val_mae.png", help="where to save the validation curve")
    boston.add_argument("--save-result", help="also save the result as JSON here")
    boston.add_argument("--no-final", action="store_true", help="skip retraining the final model")
    boston.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_boston(args: argparse.Namespace) -> None:
    """Cross-validate the book's model on Boston, print the summary, save the plot."""
    import kfold

    (x, y), (x_test, y_test) = kfold.datasets.load_boston_housing()
    smooth = args.smooth or None
    print(f"Boston housing: {len(x)} training samples, {x.shape[1]} features; "
          f"{args.folds} folds x {args.epochs} epochs, batch size {args.batch_size}, seed {args.seed}")
    start = time.perf_counter()
    result = kfold.cross_validate(build_book_model, x, y, cv=args.folds, epochs=args.epochs,
                                  batch_size=args.batch_size, preprocess=kfold.Standardize(),
                                  seed=args.seed, verbose=0 if args.quiet else 1)
    print(f"Cross-validation took {time.perf_counter() - start:.1f} s")
    result.summary("val_mae", skip=args.skip, smooth=smooth)
    _save_plot(result, args.plot, skip=args.skip, smooth=smooth)
    if args.save_result:
        result.save(args.save_result)
        print(f"Result saved to {args.save_result}")
    if not args.no_final:
        epochs = result.best_epoch("val_mae", skip=args.skip, smooth=smooth).epoch
        final = kfold.fit_final(build_book_model, x, y, epochs=epochs, batch_size=args.batch_size,
                                preprocess=kfold.Standardize(), seed=args.seed)
        mae = final.evaluate(x_test, y_test)["mae"]
        print(f"Final model: {epochs} epochs on all {len(x)} samples; test MAE {mae:.2f} "
              f"(${mae * 1000:,.0f}) on {len(x_test)} test samples")


def _save_plot(result: Any, path: str, *, skip: int, smooth: float | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import kfold

    fig, ax = plt.subplots(figsize=(8, 5))
    kfold.plot_history(result, "val_mae", skip=skip, smooth=smooth, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"Validation curve saved to {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kfold`` command; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    try:
        if args.command == "boston":
            run_boston(args)
    except (ValueError, TypeError, ImportError, FileNotFoundError) as error:
        print(f"kfold: error: {error}", file=sys.stderr)
        return 2
    return 0
