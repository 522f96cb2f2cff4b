"""The guide's examples run: every code block of docs/guide/ marked ``<!-- runs in tests/test_guide.py -->``.

The blocks of a page run in order in one namespace that starts with the front
page's definitions (README's ten-line example up to its first training call:
``keras``, ``kfold``, the Boston data and ``build_model``), in a temporary folder,
with fewer epochs (``epochs=N`` becomes ``epochs=min(N, 12)``; 12 keeps ``skip=10``
valid). A block that uses a public name kfold does not have is skipped, naming it.
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
EPOCHS = 12


def runnable_blocks(page: Path) -> list[str]:
    """The python blocks of ``page`` that follow the marker line."""
    return re.findall(rf"^{re.escape(MARKER)}\n```python\n(.*?)^```", page.read_text(), flags=re.S | re.M)


def quick(code: str) -> str:
    """``code`` with ``epochs=N`` cut to at most EPOCHS."""
    return re.sub(r"\bepochs=(\d+)", lambda m: f"epochs={min(int(m.group(1)), EPOCHS)}", code)


def front_page_definitions() -> str:
    """README's ten-line example up to its first training call."""
    readme = (ROOT / "README.md").read_text()
    example = re.findall(r"```python\n(.*?)```", readme, flags=re.S)[0]
    return example.split("\nresult = ")[0]


PAGES = sorted(page.name for page in GUIDE.glob("*.md") if runnable_blocks(page))


def test_the_pages_with_examples_are_found():
    assert {"reporting.md", "fused.md", "using-folds.md", "searches.md", "runs.md", "parallel.md"} <= set(PAGES)
    assert quick("cv=4, epochs=500, x") == "cv=4, epochs=12, x" and quick("epochs=5") == "epochs=5"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_guide_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write runs/, curve.png, boston_ensemble/
    namespace: dict = {}
    exec(front_page_definitions(), namespace)
    try:
        for block in runnable_blocks(GUIDE / page):
            absent = sorted({name for name in re.findall(r"\bkfold\.(\w+)", block) if not hasattr(kfold, name)})
            if absent:
                pytest.skip(f"{page}: a block uses kfold.{', kfold.'.join(absent)}, not in this kfold")
            exec(quick(block), namespace)
    finally:
        plt.close("all")
