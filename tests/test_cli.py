"""The ``kfold`` command: ``kfold boston`` (the README's main job) on a few epochs, ``kfold show`` and
``kfold plot`` on a saved cross-validation and a saved search, and bad input (one line, exit status 2)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import kfold
from conftest import make_regressor
from kfold.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_boston_command_prints_scores_epoch_and_saves_plot(tmp_path, capsys):
    plot, saved = tmp_path / "curve.png", tmp_path / "result.json"
    status = main(["boston", "--cv", "3", "--epochs", "4", "--skip", "1", "--verbose", "0",
                   "--plot", str(plot), "--save-result", str(saved)])
    captured = capsys.readouterr()
    out = captured.out
    assert status == 0
    assert "3 folds x 4 epochs" in out
    assert "mean ± std (ddof=1) over 3 folds:" in out and "val_mae" in out
    assert "selected epoch: epoch" in out
    assert "Final model:" in out and "test MAE" in out
    assert plot.read_bytes()[:8] == PNG
    assert json.loads(saved.read_text())["params"]["epochs"] == 4
    assert "Deprecation" not in captured.err


def test_old_spellings_still_work_with_a_note_naming_the_new_one(tmp_path, capsys):
    with pytest.warns(DeprecationWarning):
        status = main(["boston", "--folds", "2", "--epochs", "1", "--skip", "0", "--quiet", "--no-final",
                       "--plot", str(tmp_path / "p.png")])
    captured = capsys.readouterr()
    assert status == 0 and "2 folds x 1 epochs" in captured.out
    assert "--folds is deprecated" in captured.err and "use --cv 2" in captured.err
    assert "--quiet is deprecated" in captured.err and "use --verbose 0" in captured.err
    assert "folds/s" not in captured.err and "Fold 1/2" not in captured.err  # --quiet still silences


def test_bad_arguments_exit_with_a_message(tmp_path, capsys):
    status = main(["boston", "--epochs", "0", "--no-final", "--verbose", "0", "--plot", str(tmp_path / "p.png")])
    assert status == 2
    assert "Invalid `epochs`" in capsys.readouterr().err


def test_a_plot_path_in_a_missing_folder_fails_before_the_cross_validation(capsys, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("the cross-validation ran")

    monkeypatch.setattr(kfold, "cross_validate", no_training)
    status = main(["boston", "--epochs", "1", "--plot", "/nonexistent/dir/x.png"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.count("\n") == 1 and "--plot" in captured.err and "/nonexistent/dir" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


# ---------------------------------------------------------------- saved runs: kfold show / kfold plot

@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A cross-validation saved as a run directory and as JSON, and a search's run directory."""
    root = tmp_path_factory.mktemp("saved")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    result = kfold.cross_validate(make_regressor, x, y, cv=3, epochs=4, seed=0, verbose=0,
                                  run_dir=root / "cv_run")
    result.save(root / "cv.json")
    kfold.grid_search(lambda units: make_regressor(units=units), {"units": [2, 8]}, x, y, cv=3, epochs=4,
                      seed=0, verbose=0, refit=False, run_dir=root / "search_run")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cv_run", "cv.json"])
def test_show_prints_a_saved_cross_validation(saved, name, capsys):
    assert main(["show", str(saved / name), "--key", "val_mae", "--skip", "1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:5] == ["fold", "train", "val", "val_loss", "val_mae"]
    assert "mean ± std (ddof=1) over 3 folds: val_loss" in out
    assert "selected epoch: epoch" in out and "(val_mae" in out


def test_show_ddof_zero_reports_numpys_std(saved, capsys):
    assert main(["show", str(saved / "cv.json"), "--ddof", "0"]) == 0
    result = kfold.load(saved / "cv.json")
    std = np.std(result.scores["val_mae"])
    assert f"val_mae {np.mean(result.scores['val_mae']):.4f} ± {std:.4f}" in capsys.readouterr().out


def test_show_prints_a_saved_search_ranked(saved, capsys):
    assert main(["show", str(saved / "search_run")]) == 0
    out = capsys.readouterr().out
    search = kfold.load(saved / "search_run")
    assert out.startswith("Best: ")
    ranked = [line for line in out.splitlines() if " with: " in line]
    assert [line.split(" with: ")[1].split(", epoch")[0] for line in ranked] == \
        [repr(search.candidates[i]) for i in search.ranking()]


def test_plot_saves_a_saved_cross_validation(saved, tmp_path, capsys):
    out = tmp_path / "curve.png"
    assert main(["plot", str(saved / "cv_run"), "--key", "val_mae", "--skip", "1", "--smooth", "0.9",
                 "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG and str(out) in capsys.readouterr().out


def test_plot_saves_a_saved_search(saved, tmp_path):
    out = tmp_path / "search.pdf"
    assert main(["plot", str(saved / "search_run"), "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize(("argv", "expected"), [
    (["show", "{root}/missing"], "no saved run at"),
    (["plot", "{root}/missing", "-o", "{tmp}/c.png"], "no saved run at"),
    (["show", "{root}"], "Invalid"),                                     # a folder that is no run directory
    (["show", "{root}/cv.json", "--key", "val_accuracy"], "Invalid `key`"),
    (["plot", "{root}/cv_run", "--key", "val_accuracy", "-o", "{tmp}/c.png"], "Invalid `key`"),
    (["plot", "{root}/search_run", "--key", "val_accuracy", "-o", "{tmp}/c.png"], "Invalid `key`"),
    (["plot", "{root}/cv_run", "--skip", "40", "-o", "{tmp}/c.png"], "Invalid `skip`"),
    (["plot", "{root}/cv_run", "-o", "/nonexistent/dir/c.png"], "-o/--output"),
])
def test_bad_paths_and_keys_give_one_line_and_status_2(saved, tmp_path, capsys, argv, expected):
    argv = [a.format(root=saved, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("kfold: error: ") and expected in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize("command", ["boston", "show", "plot"])
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: kfold {command}" in capsys.readouterr().out
