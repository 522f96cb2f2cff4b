"""The ``kfold`` command: ``kfold boston`` (the book's example), ``kfold show`` and ``kfold plot`` (saved runs)."""

from kfold.cli.commands import main
from kfold.cli.boston import build_book_model

__all__ = ["main", "build_book_model"]
