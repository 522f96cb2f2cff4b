"""Inputs as the trainer sees them: an array, or a dict/list of arrays.

Keras models take one array, a list of arrays or a dict of arrays (multi-input or
multi-output models). These helpers count samples and slice rows of any of them,
so the rest of the package never has to care which form it got.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import warnings

from kfold.core import Described, check_choice, fail
from kfold.core import as_tensor

__all__ = ["leaves", "check_finite", "as_arrays", "n_samples", "take", "map_arrays", "check_same_length",
           "check_numeric_targets", "to_tensors", "validation_batch_size"]


def _is_multi(data: Any) -> bool:
    """A dict, or a list/tuple whose items are all arrays: one array per model input."""
    if isinstance(data, dict):
        return True
    return isinstance(data, (list, tuple)) and bool(data) and all(
        len(getattr(item, "shape", ())) > 0 for item in data
    )


def _length(value: Any, param: str) -> int:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and len(shape) > 0 and shape[0] is not None:
        return int(shape[0])
    if isinstance(value, (str, bytes)) or shape == () or not hasattr(value, "__len__"):
        fail(param, "an array, a list, or a dict/list of arrays (one entry per sample)", value)
    return len(value)


def map_arrays(data: Any, fn: Callable[[np.ndarray], Any]) -> Any:
    """Apply ``fn`` to the array, or to each array of a dict/list of arrays.

    Examples
    --------
    >>> map_arrays({"a": np.zeros(3)}, len)
    {'a': 3}
    """
    if isinstance(data, dict):
        return {name: fn(value) for name, value in data.items()}
    if _is_multi(data):
        return type(data)(fn(value) for value in data)
    return fn(data)


def leaves(data: Any) -> list:
    """The arrays inside ``data``: itself, or the values of a dict/list of arrays.

    Examples
    --------
    >>> [a.shape for a in leaves({"a": np.zeros(2), "b": np.zeros((2, 3))})]
    [(2,), (2, 3)]
    """
    if isinstance(data, dict):
        return list(data.values())
    return list(data) if _is_multi(data) else [data]


def as_arrays(data: Any, param: str) -> Any:
    """Convert ``data`` to a numpy array (or a dict/list of them); ``None`` passes.

    Raises a ValueError naming ``param`` for a scalar, an empty dict or arrays of
    different lengths.

    Examples
    --------
    >>> as_arrays([[1, 2], [3, 4]], "x").shape
    (2, 2)
    """
    if data is None:
        return None
    if isinstance(data, dict) and not data:
        fail(param, "an array or a non-empty dict of arrays", data)
    converted = map_arrays(data, np.asarray)
    if any(array.ndim == 0 for array in leaves(converted)):
        fail(param, "an array with one row per sample", data)
    n_samples(converted, param)  # raises if the arrays differ in length
    return converted


def n_samples(data: Any, param: str = "x") -> int:
    """Number of rows (samples) of an array, a list, or a dict/list of arrays.

    The arrays of a dict or list (the inputs of a multi-input model) must all
    have the same length; ``param`` names ``data`` in the error otherwise.

    Examples
    --------
    >>> n_samples([np.zeros((5, 2)), np.zeros((5, 3))])
    5
    >>> n_samples({"a": np.zeros(5), "b": np.zeros(4)})
    Traceback (most recent call last):
    ...
    ValueError: Invalid `x`. Expected arrays that all have the same length (one entry per sample). Received: x=<dict of arrays with lengths [5, 4]>
    """
    if not _is_multi(data):
        return _length(data, param)
    items = data.values() if isinstance(data, dict) else data
    lengths = [_length(item, param) for item in items]
    if not lengths:
        fail(param, "a non-empty dict of arrays", data)
    if len(set(lengths)) > 1:
        fail(param, "arrays that all have the same length (one entry per sample)",
             Described(f"<{type(data).__name__} of arrays with lengths {lengths}>"))
    return lengths[0]


def take(data: Any, indices: np.ndarray) -> Any:
    """Rows ``indices`` of an array or of each array of a dict/list; ``None`` passes.

    Examples
    --------
    >>> take({"a": np.arange(5)}, np.array([4, 0]))
    {'a': array([4, 0])}
    """
    if data is None:
        return None
    return map_arrays(data, lambda array: array[indices])


def check_same_length(n: int, **named: Any) -> None:
    """Raise if any of the named inputs has a number of rows other than ``n``.

    Examples
    --------
    >>> check_same_length(3, y=np.zeros(3), sample_weight=None)
    """
    for name, value in named.items():
        if value is not None and n_samples(value) != n:
            fail(name, f"one entry per sample of x ({n} samples)",
                 Described(f"{n_samples(value, name)} entries"),
                 "x, y, sample_weight and groups must all have the same length")


def check_finite(nan_policy: str, **named: Any) -> None:
    """Raise (``nan_policy="raise"``) or warn (``"warn"``) if a float input holds NaN or inf.

    Examples
    --------
    >>> check_finite("raise", x=np.array([1.0, np.nan]))
    Traceback (most recent call last):
    ...
    ValueError: Invalid `x`. Expected finite values (no NaN or infinity). Received: x=an array with 1 NaN or infinite values out of 2. Remove or impute them, or pass nan_policy='warn' to train anyway
    """
    check_choice("nan_policy", nan_policy, ("raise", "warn"))
    for name, value in named.items():
        for array in [] if value is None else leaves(value):
            if array.dtype.kind not in "fc" or np.isfinite(array).all():
                continue
            bad = int(array.size - np.isfinite(array).sum())
            received = Described(f"an array with {bad} NaN or infinite values out of {array.size}")
            if nan_policy == "raise":
                fail(name, "finite values (no NaN or infinity)", received,
                     "Remove or impute them, or pass nan_policy='warn' to train anyway")
            warnings.warn(f"`{name}` holds {bad} NaN or infinite values out of {array.size}; "
                          "training goes on (nan_policy='warn').",
                          RuntimeWarning, stacklevel=3)


def to_tensors(part: Any) -> Any:
    """An array (or dict/list of arrays) as tensors, floats in Keras' float type; None passes.

    Both training paths convert the data this way (the sequential ``tf.data``
    pipeline and the fused graph), so they see the same numbers.

    Examples
    --------
    >>> to_tensors(np.zeros(2)).dtype.name
    'float32'
    """
    if part is None:
        return None
    tensors = map_arrays(part, as_tensor)
    return tuple(tensors) if isinstance(tensors, list) else tensors  # as the sequential path


def check_numeric_targets(y: Any, param: str = "y") -> None:
    """Raise before any training if the targets ``y`` hold strings (or other non-numbers).

    Keras trains on numbers: class names such as ``"M"``/``"R"`` must be encoded first.

    Examples
    --------
    >>> check_numeric_targets(np.array([0, 1, 1]))
    >>> check_numeric_targets(np.array(["M", "R", "M"]))
    Traceback (most recent call last):
    ...
    ValueError: Invalid `y`. Expected numbers (integer class labels, 0/1, or real values). Received: y=an array of str values, e.g. ['M', 'R']. Encode the labels first: classes, y = np.unique(y, return_inverse=True) (classes[i] is the name of label i)
    """
    for array in [] if y is None else leaves(y):
        kind = array.dtype.kind
        if kind in "biufc":
            continue
        values = array.ravel()
        if kind == "O" and all(isinstance(v, (int, float, complex, np.number, bool)) for v in values[:1000]):
            continue
        examples = list(dict.fromkeys(str(v) for v in values[:1000]))[:3]
        kind_name = {"U": "str", "S": "bytes", "O": "object", "M": "datetime", "m": "timedelta"}.get(kind, kind)
        fail(param, "numbers (integer class labels, 0/1, or real values)",
             Described(f"an array of {kind_name} values, e.g. {examples}"),
             "Encode the labels first: classes, y = np.unique(y, return_inverse=True) "
             "(classes[i] is the name of label i)")


def validation_batch_size(batch_size: int, n_val: int) -> int:
    """A large batch for validation: the whole held-out part, up to 1024 rows (at least ``batch_size``).

    Examples
    --------
    >>> validation_batch_size(32, 100), validation_batch_size(32, 5000), validation_batch_size(64, 10)
    (100, 1024, 64)
    """
    return max(batch_size, min(n_val, 1024))
