"""Tests for kfold.datasets.loaders: offline Boston Housing (Keras' split) and UCI sonar."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from kfold import datasets
from kfold.datasets.loaders import load_boston_housing, load_sonar


# Published output of keras.datasets.boston_housing.load_data() (the book, listing 3.24).
BOOK_X_TRAIN_0 = [1.23247, 0.0, 8.14, 0.0, 0.538, 6.142, 91.7, 3.9769, 4.0, 307.0, 21.0, 396.9, 18.72]
BOOK_Y_TRAIN_HEAD = [15.2, 42.3, 50.0, 21.1, 17.7, 18.5, 11.3, 15.6, 15.6, 14.4]
BOOK_X_TEST_0 = [18.0846, 0.0, 18.1, 0.0, 0.679, 6.434, 100.0, 1.8347, 24.0, 666.0, 20.2, 27.25, 29.05]
BOOK_Y_TEST_HEAD = [7.2, 18.8, 19.0, 27.0, 22.2, 24.5]


def mlxtend_csv() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    assert spec is not None, "mlxtend is a test dependency (pip install -e '.[test]')"
    return Path(spec.submodule_search_locations[0]) / "data" / "data" / "boston_housing.csv"


def write_npz(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, y=y)
    return path


@pytest.fixture(autouse=True)
def empty_keras_home(tmp_path, monkeypatch):
    """No test reads a real ~/.keras cache: KERAS_HOME points to an empty folder."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def uci() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(mlxtend_csv(), delimiter=",")
    return table[:, :13], table[:, 13]


# ---------------------------------------------------------------- Boston Housing


def test_boston_shapes_and_dtypes():
    (x_train, y_train), (x_test, y_test) = load_boston_housing()
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == ((404, 13), (404,), (102, 13), (102,))
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.float64)}


def test_boston_matches_published_keras_values():
    (x_train, y_train), (x_test, y_test) = load_boston_housing()
    assert x_train[0][0] == 1.23247
    assert y_train[0] == 15.2
    assert x_train[0].tolist() == BOOK_X_TRAIN_0
    assert y_train[:10].tolist() == BOOK_Y_TRAIN_HEAD
    assert x_test[0].tolist() == BOOK_X_TEST_0
    assert y_test[:6].tolist() == BOOK_Y_TEST_HEAD


def test_boston_is_a_permutation_of_the_uci_rows(uci):
    (x_train, y_train), (x_test, y_test) = load_boston_housing()
    ours = np.column_stack([np.vstack([x_train, x_test]), np.concatenate([y_train, y_test])])
    theirs = np.column_stack(uci)
    assert np.array_equal(np.sort(ours, axis=0), np.sort(theirs, axis=0))


_KERAS_ORACLE = textwrap.dedent(
    """
    import os, socket, sys
    socket.setdefaulttimeout(5)
    import numpy as np
    from keras.src.backend import config
    from keras.src.utils import file_utils

    def no_download(*args, **kwargs):
        raise RuntimeError("keras tried to download boston_housing.npz")

    file_utils.urlretrieve = no_download
    # Our npz holds the same arrays as Google's but not the same zip bytes (hash).
    file_utils.validate_file = lambda *args, **kwargs: True
    assert config.keras_home() == os.environ["KERAS_HOME"], config.keras_home()
    from keras.datasets import boston_housing

    out = {}
    for i, (test_split, seed) in enumerate([(0.2, 113), (0.33, 7), (0.0, 0)]):
        (a, b), (c, d) = boston_housing.load_data(test_split=test_split, seed=seed)
        out.update({f"{i}_x_train": a, f"{i}_y_train": b, f"{i}_x_test": c, f"{i}_y_test": d})
    np.savez(sys.argv[1], **out)
    """
)


@pytest.mark.slow
def test_boston_identical_to_keras_load_data(uci, empty_keras_home, tmp_path):
    """Keras itself is the oracle: its load_data() on a cache built from the same CSV."""
    cache = write_npz(empty_keras_home / "datasets" / "boston_housing.npz", *uci)
    out = tmp_path / "keras_output.npz"
    env = {**os.environ, "KERAS_HOME": str(empty_keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _KERAS_ORACLE, str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Downloading" not in done.stdout
    with np.load(out) as keras_out:
        for i, (test_split, seed) in enumerate([(0.2, 113), (0.33, 7), (0.0, 0)]):
            for source in (None, cache, mlxtend_csv()):
                (a, b), (c, d) = load_boston_housing(path=source, test_split=test_split, seed=seed)
                for name, ours in zip(("x_train", "y_train", "x_test", "y_test"), (a, b, c, d)):
                    theirs = keras_out[f"{i}_{name}"]
                    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
                    assert np.array_equal(ours, theirs), (name, test_split, seed, source)


def test_boston_npz_path(uci, tmp_path):
    x, y = uci
    npz = write_npz(tmp_path / "mine.npz", x[:50], y[:50])
    (x_train, y_train), (x_test, y_test) = load_boston_housing(path=npz)
    assert len(x_train) == 40 and len(x_test) == 10
    assert set(y_train.tolist()) | set(y_test.tolist()) == set(y[:50].tolist())
    assert np.array_equal(load_boston_housing(path=str(npz))[0][0], x_train)


def test_boston_csv_path(tmp_path):
    table = np.arange(10 * 14, dtype=float).reshape(10, 14)
    csv = tmp_path / "small.csv"
    np.savetxt(csv, table, delimiter=",")
    (x_train, y_train), (x_test, y_test) = load_boston_housing(path=csv, test_split=0.3, seed=0)
    assert x_train.shape == (7, 13) and x_test.shape == (3, 13)
    rows = np.column_stack([np.vstack([x_train, x_test]), np.concatenate([y_train, y_test])])
    assert np.array_equal(np.sort(rows, axis=0), table)


def test_boston_keras_cache_preferred(empty_keras_home):
    x = np.full((20, 13), 7.0)
    y = np.arange(20, dtype=float)
    write_npz(empty_keras_home / "datasets" / "boston_housing.npz", x, y)
    (x_train, y_train), (x_test, _) = load_boston_housing()
    assert x_train.shape == (16, 13) and x_test.shape == (4, 13)
    assert np.all(x_train == 7.0)


def test_boston_default_cache_in_home(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    write_npz(tmp_path / ".keras" / "datasets" / "boston_housing.npz", np.ones((10, 13)), np.ones(10))
    (x_train, _), (x_test, _) = load_boston_housing()
    assert len(x_train) == 8 and len(x_test) == 2


def test_boston_nothing_found(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlxtend" else real_find_spec(name, *a)
    )
    with pytest.raises(FileNotFoundError) as info:
        load_boston_housing()
    message = str(info.value)
    assert str(tmp_path / ".keras" / "datasets" / "boston_housing.npz") in message
    assert 'pip install "keras-kfold[datasets]"' in message and "path=" in message


def test_boston_missing_path(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_boston_housing(path=missing)


def test_boston_wrong_columns(tmp_path):
    csv = tmp_path / "wide.csv"
    np.savetxt(csv, np.ones((4, 5)), delimiter=",")
    with pytest.raises(ValueError, match="14 columns"):
        load_boston_housing(path=csv)


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, "0.2", True, None])
def test_boston_bad_test_split(bad):
    expected = f"Invalid `test_split`. Expected a number in [0, 1). Received: test_split={bad!r}"
    with pytest.raises(ValueError) as info:
        load_boston_housing(test_split=bad)
    assert str(info.value) == expected


def test_boston_test_split_zero():
    (x_train, _), (x_test, y_test) = load_boston_housing(test_split=0)
    assert x_train.shape == (506, 13) and x_test.shape == (0, 13) and y_test.shape == (0,)


def test_import_is_light_and_mlxtend_never_imported():
    code = (
        "import sys; from kfold.datasets.loaders import load_boston_housing; load_boston_housing(); "
        "heavy = {'tensorflow', 'keras', 'mlxtend'} & set(sys.modules); assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_module_exports():
    assert datasets.__all__ == ["load_boston_housing", "load_sonar", "load_mnist_5k"]


# ---------------------------------------------------------------- Sonar


def test_sonar_bundled_copy():
    x, y = load_sonar()
    assert x.shape == (208, 60) and x.dtype == np.float64
    assert y.shape == (208,) and y.dtype == np.int64
    # UCI: 111 mines (M -> 1) and 97 rocks (R -> 0).
    assert int((y == 1).sum()) == 111 and int((y == 0).sum()) == 97
    assert x[0, 0] == 0.02 and y[0] == 0 and y[-1] == 1
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.array_equal(load_sonar(str(Path(datasets.loaders.__file__).with_name("data") / "sonar.csv"))[0], x)


def write_sonar(path: Path, labels: str, n_features: int = 60, newline: str = "\n") -> Path:
    lines = [",".join(f"{(i + j) / 100:.4f}" for j in range(n_features)) + f",{label}" for i, label in enumerate(labels)]
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


def test_sonar_synthetic_parsing(tmp_path):
    x, y = load_sonar(write_sonar(tmp_path / "s.csv", "MRRM"))
    assert x.shape == (4, 60) and x.dtype == np.float64 and y.dtype == np.int64
    assert y.tolist() == [1, 0, 0, 1]
    assert x[2, 3] == 0.05


def test_sonar_tolerates_crlf_spaces_and_blank_lines(tmp_path):
    file = write_sonar(tmp_path / "s.csv", "RM", newline="\r\n")
    file.write_text(file.read_text().replace(",M", ", M ") + "\n\n", encoding="utf-8")
    x, y = load_sonar(file)
    assert x.shape == (2, 60) and y.tolist() == [0, 1]


def test_sonar_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_sonar(tmp_path / "sonar.csv")
    assert str(tmp_path / "sonar.csv") in str(info.value)
    assert "https://archive.ics.uci.edu/dataset/151" in str(info.value)


def test_sonar_bad_label_names_line(tmp_path):
    file = write_sonar(tmp_path / "s.csv", "MRXM")
    with pytest.raises(ValueError, match=r"line 3: expected the label 'M' or 'R', got 'X'"):
        load_sonar(file)


def test_sonar_wrong_column_count_names_line(tmp_path):
    file = write_sonar(tmp_path / "s.csv", "MR")
    file.write_text(file.read_text() + ",".join(["0.1"] * 59) + ",R\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: expected 61 comma-separated fields .* got 60"):
        load_sonar(file)


def test_sonar_non_numeric_feature_names_line(tmp_path):
    file = write_sonar(tmp_path / "s.csv", "MR")
    file.write_text(file.read_text().replace("0.0100", "abc", 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1: a feature is not a number"):
        load_sonar(file)


def test_sonar_empty_file(tmp_path):
    file = tmp_path / "empty.csv"
    file.write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no data rows"):
        load_sonar(file)


def test_sonar_bundled_copy_is_the_uci_file_with_its_credit():
    import kfold.datasets.loaders as loaders

    folder = Path(loaders.__file__).with_name("data")
    x, y = load_sonar(folder / "sonar.csv")  # the same as the default
    assert np.array_equal(x, load_sonar()[0]) and np.array_equal(y, load_sonar()[1])
    credit = (folder / "README.md").read_text()
    assert "CC BY 4.0" in credit and "Gorman" in credit and "archive.ics.uci.edu/dataset/151" in credit
    assert "CC BY 4.0" in (loaders.load_sonar.__doc__ or "")
