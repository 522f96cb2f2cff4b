"""Package-wide promises: cheap import, __all__ everywhere, examples on public objects."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import kfold

MODULES = sorted(m.name.removeprefix("kfold.") for m in pkgutil.walk_packages(kfold.__path__, "kfold.")
                 if m.name != "kfold.__main__")


def test_import_kfold_does_not_import_heavy_packages():
    code = ("import sys, kfold; kfold.KFold; kfold.cross_validate; kfold.plot_history; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all(name):
    module = importlib.import_module(f"kfold.{name}")
    assert isinstance(module.__all__, list) and module.__all__
    for symbol in module.__all__:
        assert hasattr(module, symbol), f"kfold.{name}.__all__ lists missing {symbol}"


@pytest.mark.parametrize("name", sorted(kfold._EXPORTS))
def test_every_public_object_has_a_docstring_example(name):
    obj = getattr(kfold, name)
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"kfold.{name} has no runnable example in its docstring"


def test_exports_resolve_and_dir_lists_them():
    for name in kfold.__all__:
        assert getattr(kfold, name) is not None
    assert set(kfold.__all__) <= set(dir(kfold))
    with pytest.raises(AttributeError):
        kfold.not_a_thing


def test_missing_tensorflow_gives_an_install_hint(monkeypatch):
    from kfold.core import backend as _backend

    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    with pytest.raises(ImportError, match=r'pip install "keras-kfold\[tensorflow-cpu\]"'):
        _backend.import_keras()


def test_no_merge_conflict_markers_are_left_in_the_repository():
    import pathlib

    root = pathlib.Path(kfold.__file__).resolve().parents[1]
    files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
    if not files:  # not a git checkout (an installed copy): the package's own files
        files = [str(p.relative_to(root)) for p in (root / "kfold").rglob("*.py")]
    markers = ("<" * 7 + " ", ">" * 7 + " ", "=" * 7 + "\n")
    found = []
    for name in files:
        path = root / name
        if path.suffix not in {".py", ".md", ".cfg", ".toml", ".ipynb", ".txt"} or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(True), 1):
            if line.startswith(markers):
                found.append(f"{name}:{number}")
    assert not found, f"merge conflict markers left in: {found[:10]}"
