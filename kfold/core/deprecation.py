"""Old keyword spellings that keep working for one release, with a warning that names the new one."""
from __future__ import annotations

import warnings
from typing import Any

__all__ = ["renamed_keywords"]


def renamed_keywords(given: dict[str, Any], renames: dict[str, str], where: str, *,
                     stacklevel: int = 3) -> dict[str, Any]:
    """``given`` (a function's ``**kwargs``) with old names replaced by their new ones.

    Each old name warns with a :class:`DeprecationWarning` that names its new
    spelling; a name that is neither is refused as Python refuses an unknown keyword.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     renamed_keywords({"select": False}, {"select": "mark_epoch"}, "plot_history")
    {'mark_epoch': False}
    >>> str(caught[0].message)
    'plot_history(select=...) is deprecated and will be removed in kfold 0.3; use mark_epoch=... instead.'
    >>> renamed_keywords({"colour": 1}, {}, "plot_history")
    Traceback (most recent call last):
    ...
    TypeError: plot_history() got an unexpected keyword argument 'colour'
    """
    out = {}
    for name, value in given.items():
        if name not in renames:
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}")
        new = renames[name]
        warnings.warn(f"{where}({name}=...) is deprecated and will be removed in kfold 0.3; use {new}=... instead.",
                      DeprecationWarning, stacklevel=stacklevel)
        out[new] = value
    return out
