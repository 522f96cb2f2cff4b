"""plot_search and plot_search_heatmap, on searches built from made-up curves."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

import kfold
from kfold import CVHistory, CVResult, KFold, SearchResult

FOLDS = list(KFold(2).split(range(4)))


def grid_search_of(curves_by_candidate, candidates, **options):
    results = [CVResult(CVHistory([{"val_accuracy": c, "accuracy": c} for c in pair]), FOLDS, {},
                        np.ones(2), np.zeros(2), {}) for pair in curves_by_candidate]
    return SearchResult(results, candidates, select="val_accuracy", **options)


@pytest.fixture
def search():
    # nodes x lr; the best is nodes=64, lr=0.01 at epoch 3
    curves = [[[0.5, 0.6, 0.7]] * 2, [[0.5, 0.7, 0.6]] * 2, [[0.6, 0.7, 0.9], [0.6, 0.7, 0.8]],
              [[0.4, 0.5, 0.6]] * 2]
    candidates = [{"nodes": n, "lr": lr} for n in (32, 64) for lr in (0.001, 0.01)]
    return grid_search_of(curves, candidates)


def gids(ax):
    return [a.get_gid() for a in ax.get_children() if a.get_gid()]


def test_plot_search_draws_every_candidate_best_first(search):
    ax = kfold.plot_search(search, ax=Figure().subplots())
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert sorted(lines) == ["best", "candidate 0", "candidate 1", "candidate 2", "candidate 3"]
    assert ax.get_legend().texts[0].get_text() == "nodes=64, lr=0.001 (best)"
    assert lines["candidate 2"].get_linewidth() > lines["candidate 0"].get_linewidth()
    assert lines["best"].get_xdata().tolist() == [3] and lines["best"].get_ydata()[0] == pytest.approx(0.85)
    assert sum(g.startswith("band") for g in gids(ax)) == 4
    assert ax.get_xlabel() == "Epoch" and ax.get_ylabel() == "Validation accuracy"


def test_plot_search_options(search):
    ax = kfold.plot_search(search, "accuracy", skip=1, smooth=0.5, band="none", top=2, ax=Figure().subplots())
    curves = [line for line in ax.get_lines() if line.get_gid().startswith("candidate")]
    assert len(curves) == 2 and curves[0].get_xdata().tolist() == [2, 3]
    assert curves[0].get_ydata().tolist() == pytest.approx([0.7, 0.775])  # smoothed after the skip
    assert not any(g.startswith("band") for g in gids(ax))
    with pytest.raises(ValueError, match=r"Invalid `key`.*\['val_accuracy', 'accuracy'\]"):
        kfold.plot_search(search, "val_loss", ax=Figure().subplots())
    with pytest.raises(ValueError, match="Invalid `band`"):
        kfold.plot_search(search, band="iqr", ax=Figure().subplots())


def test_heatmap_cells_values_and_best(search):
    ax = kfold.plot_search_heatmap(search, ax=Figure().subplots())
    image = ax.get_images()[0]
    assert np.ravel(image.get_array()).tolist() == pytest.approx([0.7, 0.7, 0.85, 0.6])
    texts = {t.get_gid(): t.get_text() for t in ax.texts}
    assert texts["cell 1 0"] == "0.85\nepoch 3" and texts["cell 0 1"] == "0.7\nepoch 2"
    best = [p for p in ax.patches if p.get_gid() == "best"][0]
    assert best.get_xy() == (-0.5, 0.5)
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("nodes", "lr")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.001", "0.01"]


def test_heatmap_takes_the_best_over_a_third_parameter():
    curves = [[[0.5, 0.6]] * 2, [[0.5, 0.8]] * 2, [[0.6, 0.7]] * 2, [[0.4, 0.5]] * 2]
    candidates = [{"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 1, "c": 2}, {"a": 2, "b": 1, "c": 1},
                  {"a": 2, "b": 1, "c": 2}]
    search = grid_search_of(curves, candidates)
    with pytest.raises(ValueError, match=r"Expected two parameter names \(rows, columns\). Received: params=\('a',\)"):
        kfold.plot_search_heatmap(search, params=("a",), ax=Figure().subplots())
    ax = kfold.plot_search_heatmap(search, params=("a", "b"), ax=Figure().subplots())
    assert ax.get_images()[0].get_array().ravel().tolist() == pytest.approx([0.8, 0.7])


def test_heatmap_needs_two_varying_parameters():
    search = grid_search_of([[[0.5, 0.6]] * 2, [[0.5, 0.8]] * 2], [{"a": 1}, {"a": 2}])
    with pytest.raises(ValueError, match=r"Invalid `params`.*1 varying parameters \['a'\]"):
        kfold.plot_search_heatmap(search, ax=Figure().subplots())
    search = grid_search_of([[[0.5, 0.6]] * 2, [[0.5, 0.8]] * 2],
                            [{"a": 1, "b": 1, "c": 1}, {"a": 2, "b": 2, "c": 2}])
    with pytest.raises(ValueError, match=r"3 varying parameters \['a', 'b', 'c'\]"):
        kfold.plot_search_heatmap(search, ax=Figure().subplots())
