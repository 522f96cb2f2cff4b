"""Held-out scores under held-out names: ``val_loss``, ``val_mae``, ... (the old names still read, with a warning).

Each fold's model is evaluated on its validation part; ``model.evaluate`` calls
those values ``loss`` and ``mae``, which Keras users read as training values.
kfold reports them as ``val_loss`` and ``val_mae``, the names Keras gives the
same quantities in a history.
"""
from __future__ import annotations

import warnings
from typing import Any, Mapping

__all__ = ["HeldOutScores", "held_out_name"]


def held_out_name(key: str) -> str:
    """``"mae"`` -> ``"val_mae"``; a name that already starts with ``val_`` is kept.

    Examples
    --------
    >>> held_out_name("mae"), held_out_name("val_loss")
    ('val_mae', 'val_loss')
    """
    return key if key.startswith("val_") else f"val_{key}"


class HeldOutScores(dict):
    """A dict of held-out scores keyed ``val_<name>``; ``scores["<name>"]`` still works, with a DeprecationWarning.

    The old keys (``"loss"``, ``"mae"``) are readable for one release; they are
    not listed by ``keys()`` and not saved.

    Parameters
    ----------
    scores : mapping, optional
        Scores by ``model.evaluate`` name or by held-out name; each key is
        renamed with :func:`held_out_name`.

    Examples
    --------
    >>> import warnings
    >>> scores = HeldOutScores({"loss": [1.0], "mae": [0.5]})
    >>> list(scores)
    ['val_loss', 'val_mae']
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     value = scores["mae"]
    >>> value, caught[0].category.__name__
    ([0.5], 'DeprecationWarning')
    """

    def __init__(self, scores: Mapping[str, Any] | None = None) -> None:
        super().__init__({held_out_name(str(k)): v for k, v in (scores or {}).items()})

    def _old(self, key: Any) -> str | None:
        if isinstance(key, str) and not key.startswith("val_") and f"val_{key}" in self.keys():
            warnings.warn(f"result.scores[{key!r}] is deprecated: held-out scores are named "
                          f"'val_{key}' now (the old name works for one release)",
                          DeprecationWarning, stacklevel=3)
            return f"val_{key}"
        return None

    def __missing__(self, key: Any) -> Any:
        new = self._old(key)
        if new is None:
            raise KeyError(key)
        return dict.__getitem__(self, new)

    def get(self, key: Any, default: Any = None) -> Any:
        """``dict.get``, reading an old key (with its warning) too."""
        if key in self.keys():
            return dict.__getitem__(self, key)
        new = self._old(key)
        return default if new is None else dict.__getitem__(self, new)
