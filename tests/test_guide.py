"""The guide's examples run: every code block of docs/guide/ marked ``<!-- runs in tests/test_guide.py -->``.

The blocks of a page run in order in one namespace that starts with the front
page's definitions (README's ten-line example up to its first training call:
``keras``, ``kfold``, the Boston data and ``build_model``), in a temporary folder,
with quick values: at most 4 epochs, 3 folds and ``skip=1``, and the smaller grids and
size lists of ``SMALLER``. A block that uses a public name kfold does not have fails,
naming it.
"""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import kfold

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide"
MARKER = "<!-- runs in tests/test_guide.py -->"
# Text of a page -> its quick stand-in (each must occur on its page).
SMALLER = {
    "searches.md": {'{"units": [16, 32, 64, 128, 256], "lr": [1e-3, 2e-3, 3e-3]}': '{"units": [16, 64], "lr": [1e-3, 1e-2]}'},
    "using-folds.md": {"train_sizes=(0.1, 0.325, 0.55, 0.775, 1.0)": "train_sizes=(0.5, 1.0)"},
}


def runnable_blocks(page: Path) -> list[str]:
    """The python blocks of ``page`` that follow the marker line."""
    return re.findall(rf"^{re.escape(MARKER)}\n```python\n(.*?)^```", page.read_text(), flags=re.S | re.M)


def quick(code: str, page: str = "") -> str:
    """``code`` with at most 4 epochs, 3 folds, ``skip=1``, and the page's ``SMALLER`` values."""
    for text, stand_in in SMALLER.get(page, {}).items():
        code = code.replace(text, stand_in)
    for pattern, most in ((r"\b(epochs=)(\d+)", 4), (r"\b(skip=)(\d+)", 1), (r"\b(cv=)(\d+)", 3), (r"(KFold\()(\d+)", 3)):
        code = re.sub(pattern, lambda m: f"{m.group(1)}{min(int(m.group(2)), most)}", code)
    return code


def front_page_definitions() -> str:
    """README's ten-line example up to its first training call."""
    readme = (ROOT / "README.md").read_text()
    example = re.findall(r"```python\n(.*?)```", readme, flags=re.S)[0]
    return example.split("\nresult = ")[0]


PAGES = sorted(page.name for page in GUIDE.glob("*.md") if runnable_blocks(page))


def test_the_pages_with_examples_are_found():
    assert {"reporting.md", "fused.md", "using-folds.md", "searches.md", "runs.md", "parallel.md"} <= set(PAGES)
    assert quick("cv=10, epochs=500, skip=10, StratifiedKFold(5, x") == "cv=3, epochs=4, skip=1, StratifiedKFold(3, x"
    for page, smaller in SMALLER.items():
        assert all(text in (GUIDE / page).read_text() for text in smaller), page


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_guide_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write runs/, curve.png, boston_ensemble/
    namespace: dict = {}
    exec(front_page_definitions(), namespace)
    try:
        for block in runnable_blocks(GUIDE / page):
            absent = sorted({name for name in re.findall(r"\bkfold\.(\w+)", block) if not hasattr(kfold, name)})
            assert not absent, f"{page}: a block uses kfold.{', kfold.'.join(absent)}, not in kfold"
            exec(quick(block, page), namespace)
    finally:
        plt.close("all")
