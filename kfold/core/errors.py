"""The error a failed fold raises, shared by the trainers and the executors."""
from __future__ import annotations

__all__ = ["FoldError"]


class FoldError(RuntimeError):
    """A fold failed: its training raised, or its loss became NaN or infinite.

    Examples
    --------
    >>> str(FoldError(2, "the loss became nan at epoch 4"))
    'Fold 3 failed: the loss became nan at epoch 4'
    """

    def __init__(self, fold: int, reason: str) -> None:
        super().__init__(f"Fold {fold + 1} failed: {reason}")
        self.fold, self.reason = fold, reason
        self.candidate: int | None = None  #: set when the fold belongs to a search's candidate
