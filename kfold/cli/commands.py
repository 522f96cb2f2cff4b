"""The ``kfold`` command's parser and entry point: ``kfold boston``, ``kfold show``, ``kfold plot``.

Errors in what was typed (bad paths, keys, values) are one line on stderr and
exit status 2, with no traceback. Old option spellings (``--folds``,
``--quiet``) still work for one release, with a note naming the new one.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Sequence

from kfold.cli.boston import add_boston_arguments, run_boston
from kfold.cli.saved import add_plot_arguments, add_show_arguments, run_plot, run_show

__all__ = ["main", "build_parser", "check_output_path"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``kfold`` command and its three subcommands.

    Examples
    --------
    >>> build_parser().parse_args(["show", "runs/boston"]).command
    'show'
    """
    parser = argparse.ArgumentParser(prog="kfold", description="Honest k-fold validation of Keras models.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_boston_arguments(sub.add_parser(
        "boston", help="the book's Boston housing k-fold example (listings 3.24-3.32)",
        description="Cross-validate the book's Boston model, print the summary, save the validation curve."))
    add_show_arguments(sub.add_parser(
        "show", help="print the summary of a saved run or search",
        description="Print a saved cross-validation's per-fold scores, mean ± std and selected epoch, "
                    "or a saved search's candidates, best first."))
    add_plot_arguments(sub.add_parser(
        "plot", help="save the validation-curve plot of a saved run or search",
        description="Save a saved cross-validation's validation curve (folds, mean, band, selected epoch), "
                    "or a saved search's mean curve per candidate."))
    return parser


class UsageError(ValueError):
    """Something typed on the command line is wrong (exit status 2)."""


def check_output_path(option: str, path: str | None) -> None:
    """Refuse, before any work, a file that cannot be written: its folder must exist and be writable.

    Examples
    --------
    >>> check_output_path("--plot", "/nonexistent/dir/x.png")
    Traceback (most recent call last):
    ...
    kfold.cli.commands.UsageError: argument --plot: cannot write /nonexistent/dir/x.png: the folder /nonexistent/dir does not exist
    """
    if path is None:
        return
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"argument {option}: {path} is a folder; give a file name such as {target / 'curve.png'}")
    if not folder.is_dir():
        raise UsageError(f"argument {option}: cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"argument {option}: cannot write {path}: the folder {folder} is not writable")


def _deprecated(old: str, new: str) -> None:
    message = f"{old} is deprecated and will be removed in the next release; use {new}"
    warnings.warn(message, DeprecationWarning, stacklevel=3)
    print(f"kfold: DeprecationWarning: {message}", file=sys.stderr)


def _resolve_boston(args: argparse.Namespace) -> None:
    """The new spellings win; the old ones still work, with a note."""
    if args.folds is not None:
        _deprecated("--folds", f"--cv {args.folds}")
        if args.cv is None:
            args.cv = args.folds
    args.cv = 4 if args.cv is None else args.cv
    if args.quiet:
        _deprecated("--quiet", "--verbose 0")
        if args.verbose is None:
            args.verbose = 0
    args.verbose = 1 if args.verbose is None else args.verbose
    check_output_path("--plot", args.plot)
    check_output_path("--save-result", args.save_result)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kfold`` command; returns the exit status (2 for bad input)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "boston":
            _resolve_boston(args)
            run_boston(args)
        elif args.command == "show":
            run_show(args)
        elif args.command == "plot":
            check_output_path("-o/--output", args.output)
            run_plot(args)
    except (ValueError, TypeError, KeyError, ImportError, OSError) as error:
        print(f"kfold: error: {_one_line(error)}", file=sys.stderr)
        return 2
    return 0
