"""The documentation site builds without a warning, and every public object has an API entry."""
from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import kfold

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"


def _api_entries() -> list[str]:
    """The identifiers of the ``::: kfold.module.name`` lines of the API pages."""
    return [m for page in sorted(API.glob("*.md"))
            for m in re.findall(r"^::: (\S+)\s*$", page.read_text(), flags=re.M)]


def _resolve(identifier: str):
    module, _, name = identifier.rpartition(".")
    try:
        return importlib.import_module(identifier)
    except ImportError:
        return getattr(importlib.import_module(module), name)


def test_every_public_name_has_an_api_entry():
    entries = _api_entries()
    by_name = {entry.rpartition(".")[2]: entry for entry in entries}
    missing = [name for name in kfold.__all__ if name != "__version__" and name not in by_name]
    assert not missing, f"no `::: kfold.<module>.<name>` entry in docs/api/*.md for: {missing}"
    for name in kfold.__all__:
        if name != "__version__":  # a string: named in docs/api/index.md's text
            assert _resolve(by_name[name]) is getattr(kfold, name), by_name[name]
    assert "`kfold.__version__`" in (API / "index.md").read_text()


def test_every_api_entry_resolves():
    for entry in _api_entries():
        assert _resolve(entry) is not None, entry


def test_mkdocs_build_strict(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "api" / "training" / "index.html").is_file()
    assert "cross_validate" in (tmp_path / "site" / "api" / "training" / "index.html").read_text()
