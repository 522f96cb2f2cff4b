"""Shared helpers every layer may use: argument checks and messages, lazy imports, seeds, atomic files, the fold error."""

from kfold.core.errors import FoldError

__all__ = ["FoldError"]
