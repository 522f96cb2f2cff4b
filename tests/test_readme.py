"""README.md stays true: CI runs its test command, and its example runs."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    commands = [line for block in _blocks("bash") for line in block.splitlines()
                if line and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith(".venv/bin/kfold boston")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [line for line in ci if "pytest" in line and not line.startswith("#")][0] == commands[1]  # the main step


def test_ten_line_example_runs(capsys):
    code = _blocks("python")[0]
    assert "epochs=500" in code
    namespace: dict = {}
    exec(code.replace("epochs=500", "epochs=12"), namespace)  # same code, fewer epochs
    out = capsys.readouterr().out
    assert "selected epoch: epoch" in out and "test MAE:" in out
    assert namespace["epoch"] > 10  # counted on the original curve, after the 10 skipped
    plt.close("all")


def test_readme_is_a_front_page_whose_links_lead_somewhere():
    assert len(README.splitlines()) <= 200  # the rest lives in the guide, docs/guide/
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", README) if "://" not in t]
    assert "docs/guide/fused.md" in targets and "CHANGELOG.md" in targets
    missing = [t for t in targets if t and not (ROOT / t).exists()]
    assert not missing, missing
