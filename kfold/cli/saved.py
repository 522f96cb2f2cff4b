"""``kfold show`` and ``kfold plot``: a saved run (a run directory or a result's JSON file) from the shell.

Examples
--------
    kfold show runs/boston                         # per-fold scores, mean ± std, the selected epoch
    kfold plot runs/boston --key val_mae --skip 10 --smooth 0.9 -o curve.png
    kfold show runs/search                         # a search: its candidates, best first
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kfold.cli.boston import use_matplotlib_agg
from kfold.loading import load
from kfold.results import CVResult
from kfold.results import plot_history
from kfold.search import NestedResult
from kfold.search import plot_search
from kfold.search import SearchResult

__all__ = ["add_show_arguments", "add_plot_arguments", "run_show", "run_plot", "load_saved"]


def _selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="RUN_DIR_OR_JSON",
                        help="a run directory (run_dir=) or a JSON file written by result.save()")
    parser.add_argument("--key", help="history key to select on / draw (default: val_loss, "
                                      "or the search's select)")
    parser.add_argument("--skip", type=int, default=None, help="first epochs left out (default 0, or the search's)")
    parser.add_argument("--smooth", type=float, default=None,
                        help="smoothing factor in [0, 1), 0 for none (default none, or the search's)")


def add_show_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``kfold show``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_show_arguments(parser)
    >>> parser.parse_args(["runs/boston", "--ddof", "0"]).ddof
    0
    """
    _selection_arguments(parser)
    parser.add_argument("--ddof", type=int, choices=(0, 1), default=1,
                        help="std convention: 1 sample std (default), 0 np.std's")


def add_plot_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``kfold plot``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_plot_arguments(parser)
    >>> parser.parse_args(["runs/boston", "-o", "c.png"]).output
    'c.png'
    """
    _selection_arguments(parser)
    parser.add_argument("-o", "--output", default="curve.png",
                        help="where to save the figure; its suffix sets the format (default curve.png)")


def load_saved(path: str) -> Any:
    """:func:`kfold.load` of ``path``, or a ``ValueError`` saying that nothing is saved there."""
    if not Path(path).exists():
        raise ValueError(f"no saved run at {path}: pass a run directory (run_dir=) or a JSON file "
                         "written by result.save()")
    return load(path)


def run_show(args: argparse.Namespace) -> None:
    """Print the summary of the saved run at ``args.path``."""
    saved = load_saved(args.path)
    if isinstance(saved, CVResult):
        saved.summary(args.key, skip=args.skip or 0, smooth=args.smooth or None, ddof=args.ddof)
    elif isinstance(saved, SearchResult):
        changes = {name: value for name, value in (("select", args.key), ("skip", args.skip),
                                                    ("smooth", args.smooth)) if value is not None}
        (saved.reselect(**changes) if changes else saved).summary()
    elif isinstance(saved, NestedResult):
        saved.summary()
    print(f"(from {args.path})")


def run_plot(args: argparse.Namespace) -> None:
    """Save the validation-curve plot of the saved run at ``args.path`` (a search: every candidate's mean)."""
    saved = load_saved(args.path)
    plt = use_matplotlib_agg()
    fig, ax = plt.subplots(figsize=(8, 5))
    try:
        if isinstance(saved, CVResult):
            plot_history(saved, args.key or saved.default_key(), skip=args.skip or 0,
                         smooth=args.smooth or None, ax=ax, path=args.output)
        elif isinstance(saved, SearchResult):
            plot_search(saved, args.key, skip=args.skip, smooth=args.smooth, ax=ax, path=args.output)
        else:
            raise ValueError(f"{args.path} holds a {type(saved).__name__}, which has no curves to plot: "
                             "plot one of its searches from Python (kfold.plot_search)")
    finally:
        plt.close(fig)
    print(f"Figure saved to {args.output}")
