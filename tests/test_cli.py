"""The ``kfold boston`` command (the README's main job), on a few epochs."""
from __future__ import annotations

import json

from kfold.cli import main


def test_boston_command_prints_scores_epoch_and_saves_plot(tmp_path, capsys):
    plot, saved = tmp_path / "curve.png", tmp_path / "result.json"
    status = main(["boston", "--folds", "3", "--epochs", "4", "--skip", "1", "--quiet",
                   "--plot", str(plot), "--save-result", str(saved)])
    out = capsys.readouterr().out
    assert status == 0
    assert "3 folds x 4 epochs" in out
    assert "mean ± std over 3 folds:" in out and "mae" in out
    assert "selected epoch: epoch" in out
    assert "Final model:" in out and "test MAE" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(saved.read_text())["params"]["epochs"] == 4


def test_bad_arguments_exit_with_a_message(tmp_path, capsys):
    status = main(["boston", "--epochs", "0", "--no-final", "--quiet", "--plot", str(tmp_path / "p.png")])
    assert status == 2
    assert "Invalid `epochs`" in capsys.readouterr().err
