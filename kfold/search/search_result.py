"""The result of a search: every candidate's full cross-validation, and the joint choice.

Each candidate keeps its :class:`~kfold.CVResult` (every fold, every epoch, every
key). The best candidate and its epoch are chosen **together**: for every
candidate the mean validation curve ``select`` is taken across folds, its first
``skip`` epochs dropped and the rest smoothed (``smooth``), as
:func:`kfold.best_epoch` does; the candidate whose curve reaches the best value
at any epoch wins, at that epoch. With ``rule="one_se"`` the winner is the same
and its epoch is the earliest one within one standard error of its best value.
A candidate that the search stopped early (:func:`kfold.halving_search`, a
pruner) keeps its curves up to where it stopped but is not chosen: the choice
is made among the candidates that were trained to the end.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar

import numpy as np

from kfold.core import fail
from kfold.search.candidates import plain
from kfold.search.comparison import compare
from kfold.results import EpochSelection, fold_stats, resolve_mode
from kfold.results import CVResult
from kfold.results import Saved

__all__ = ["SearchResult", "Table"]


def _cell(value: Any) -> str:
    if value is np.ma.masked or value is None:
        return "-"
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def _unmasked(column: np.ndarray) -> Any:
    """A masked column as a list with None where masked (pandas keeps the objects)."""
    if not np.ma.isMaskedArray(column):
        return column
    return [None if masked else value for value, masked in zip(column.data, np.ma.getmaskarray(column))]


class Table(dict):
    """Columns by name, each a numpy array with one entry per row.

    It is a plain ``dict`` (``table["mean_val_loss"]``), so it works wherever
    scikit-learn's ``cv_results_`` does; ``print(table)`` shows it as text and
    :meth:`to_frame` returns a ``pandas.DataFrame``.

    Examples
    --------
    >>> table = Table({"name": np.array(["a", "b"]), "score": np.array([0.5, 0.25])})
    >>> print(table)
    name  score
    a     0.5
    b     0.25
    >>> table["score"].tolist()
    [0.5, 0.25]
    """

    def to_frame(self) -> Any:
        """The table as a ``pandas.DataFrame`` (pandas must be installed).

        Examples
        --------
        >>> Table({"score": np.array([0.5])}).to_frame().shape
        (1, 1)
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_frame() needs pandas, which kfold does not install. "
                              "Fix: pip install pandas") from None
        return pd.DataFrame({name: _unmasked(column) for name, column in self.items()})

    def text(self, columns: list[str] | None = None) -> str:
        """The table as aligned text, with only ``columns`` if given.

        Examples
        --------
        >>> print(Table({"a": np.array([1, 22]), "b": np.array([3, 4])}).text(["a"]))
        a
        1
        22
        """
        names = list(columns or self)
        cells = [[name] + [_cell(v) for v in self[name]] for name in names]
        widths = [max(len(c) for c in column) for column in cells]
        rows = zip(*cells)
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)

    def __str__(self) -> str:
        return self.text()


def _rank(values: np.ndarray, mode: str) -> np.ndarray:
    """1 for the best value, ties share the lowest rank, NaN ranks last."""
    keys = np.where(np.isnan(values), np.inf, values if mode == "min" else -values)
    return np.array([1 + int(np.sum(keys < k)) for k in keys], dtype=int)


def _masked_column(candidates: list[dict], name: str) -> np.ma.MaskedArray:
    column = np.ma.masked_all(len(candidates), dtype=object)
    for i, candidate in enumerate(candidates):
        if name in candidate:
            column[i] = candidate[name]
    return column


def objects_column(items: list) -> np.ndarray:
    column = np.empty(len(items), dtype=object)
    column[:] = items
    return column


@dataclasses.dataclass(eq=False)
class SearchResult(Saved):
    """Every candidate's cross-validation on the same folds, and the best (params, epoch).

    Attributes
    ----------
    results : list of CVResult
        One per candidate, in candidate order; ``results[i].params`` holds
        ``cross_validate``'s record with the candidate's parameters laid over it
        (``results[i].params["units"]``), plus ``"candidate"`` (the candidate's
        own dict) and ``"candidate_index"``.
    candidates : list of dict
        The parameters of each candidate, with their original values.
    select, skip, smooth, mode, rule
        How the best (candidate, epoch) is chosen; see :func:`kfold.grid_search`.
    params : dict
        The search's own record (kind, seed, cv, refit policy), plain types.
    best_model : FinalModel or None
        The best candidate retrained on all the data (``refit=True``); not saved.
    refit_epochs : int or None
        The number of epochs ``best_model`` was trained for.
    graph_traces : int or None
        Fused training graphs traced (and compiled) by the search: one per
        architecture (candidates that differ only in the learning rate share
        one); not saved.

    Examples
    --------
    >>> from kfold import CVHistory, KFold
    >>> folds = list(KFold(2).split(range(4)))
    >>> def cv(curves):
    ...     return CVResult(CVHistory([{"val_loss": c} for c in curves]), folds, {},
    ...                     np.ones(2), np.zeros(2), {})
    >>> search = SearchResult([cv([[3, 2, 2.5], [3, 2.2, 2.4]]), cv([[3, 1.5, 1.0], [3, 1.7, 1.2]])],
    ...                       [{"units": 8}, {"units": 16}])
    >>> search.best_params, search.best_epoch, round(search.best_score, 3)
    ({'units': 16}, 3, 1.1)
    >>> search.cv_results["rank_val_loss"].tolist(), search.cv_results["best_epoch"].tolist()
    ([2, 1], [2, 3])
    """

    kind: ClassVar[str] = "search_result"

    results: list
    candidates: list
    select: str = "val_loss"
    skip: int = 0
    smooth: float | None = None
    mode: str = "auto"
    rule: str = "min"
    params: dict = dataclasses.field(default_factory=dict)
    best_model: Any = None
    refit_epochs: int | None = None
    graph_traces: int | None = None

    def __post_init__(self) -> None:
        if not self.results or len(self.results) != len(self.candidates):
            fail("results", f"one CVResult per candidate ({len(self.candidates)})", len(self.results))
        hashes = {r.folds_hash for r in self.results}
        if len(hashes) != 1:
            fail("results", "results on one fold manifest (equal folds_hash)", f"{len(hashes)} manifests")
        for result in self.results:
            if self.select not in result.history:
                fail("select", f"a key of every candidate's history, one of {result.history.keys()}",
                     self.select, "Pass select='val_loss' or the validation metric to select on")
        self.mode = resolve_mode(self.mode, self.select)
        options = dict(skip=self.skip, smooth=self.smooth, mode=self.mode)
        self.selections = [self._selection(i, self.rule, options) for i in range(len(self.results))]
        best_points = [self._selection(i, "min", options).value for i in range(len(self.results))]
        self.selection_scores = np.array(best_points, dtype=float)
        self.best_index = int(self._choice_ranks().argmin())

    def _selection(self, i: int, rule: str, options: dict) -> EpochSelection:
        """Candidate ``i``'s selection; all NaN for a candidate stopped early without a finite value."""
        result = self.results[i]
        try:
            return result.best_epoch(self.select, rule=rule, **options)
        except ValueError:
            if i not in self.stopped:
                raise
        nan = float("nan")
        return EpochSelection(epoch=max(1, result.history.n_epochs), value=nan, mean=nan, std=nan, sem=nan,
                              n_folds=0, key=self.select, mode=self.mode, rule=rule, skip=self.skip,
                              smooth=self.smooth)

    def _choice_ranks(self) -> np.ndarray:
        """``_rank`` of the selection scores, the candidates stopped early ranked after all the others."""
        ranks = _rank(self.selection_scores, self.mode)
        stopped = np.array([i in self.stopped for i in range(len(self.results))])
        if not stopped.any() or stopped.all():
            return ranks
        return np.where(stopped, ranks + len(ranks), ranks)

    @property
    def stopped(self) -> dict:
        """The candidates the search stopped early: index -> ``{"epoch": last epoch trained, "reason": ...}``."""
        return {i: r.params["stop"] for i, r in enumerate(self.results) if r.params.get("stop")}

    @property
    def rounds(self) -> list:
        """:func:`kfold.halving_search`'s rounds: who trained to which epoch, who went on; else []."""
        return list(self.params.get("rounds", []))

    @property
    def best_params(self) -> dict:
        """The best candidate's parameters."""
        return dict(self.candidates[self.best_index])

    @property
    def best_selection(self) -> EpochSelection:
        """The best candidate's :class:`~kfold.EpochSelection` (epoch, mean, std, sem, value)."""
        return self.selections[self.best_index]

    @property
    def best_epoch(self) -> int:
        """The selected epoch (1-based) of the best candidate."""
        return self.best_selection.epoch

    @property
    def best_score(self) -> float:
        """Mean of ``select`` across folds at the best epoch (raw, not smoothed)."""
        return self.best_selection.mean

    @property
    def best_std(self) -> float:
        """Standard deviation (``ddof=1``) across folds of ``select`` at the best epoch."""
        return self.best_selection.std

    @property
    def best_sem(self) -> float:
        """Standard error across folds of ``select`` at the best epoch."""
        return self.best_selection.sem

    @property
    def best_result(self) -> CVResult:
        """The best candidate's :class:`~kfold.CVResult`."""
        return self.results[self.best_index]

    @property
    def folds(self) -> list:
        """The ``(train, val)`` pairs every candidate was evaluated on."""
        return self.results[0].folds

    @property
    def folds_hash(self) -> str:
        """SHA-256 of the fold manifest shared by every candidate."""
        return self.results[0].folds_hash

    @property
    def cv_results(self) -> Table:
        """scikit-learn's ``cv_results_`` layout, one row per candidate.

        ``mean_fit_time``/``std_fit_time`` (seconds per fold, all epochs),
        ``mean_score_time``/``std_score_time``, ``param_<name>`` (masked where a
        candidate has no such parameter), ``params``, ``best_epoch`` (each
        candidate's own selected epoch, 1-based), ``selection_score`` (the best
        value of its smoothed mean ``select`` curve), and for every history key
        ``<key>``: ``split<k>_<key>`` (fold ``k``'s value at the candidate's
        ``best_epoch``), ``mean_<key>``, ``std_<key>`` (across folds, ``ddof=1``;
        scikit-learn uses ``ddof=0``) and ``rank_<key>`` (1 = best by
        ``mean_<key>``, except ``rank_<select>``, which ranks ``selection_score``,
        candidates stopped early after the others, so the best candidate is
        always rank 1). A search that stops candidates early adds
        ``epochs_trained`` (the epochs each candidate reached) and ``stop_reason``
        (empty for the candidates trained to the end).
        """
        table = Table()
        for name in ("fit", "score"):
            times = np.array([getattr(r, f"{name}_times") for r in self.results])
            table[f"mean_{name}_time"], table[f"std_{name}_time"] = fold_stats(times.T)[:2]
        for name in dict.fromkeys(n for c in self.candidates for n in c):
            table[f"param_{name}"] = _masked_column(self.candidates, name)
        table["params"] = objects_column([dict(c) for c in self.candidates])
        table["best_epoch"] = np.array([s.epoch for s in self.selections])
        table["selection_score"] = self.selection_scores
        for key in dict.fromkeys(k for r in self.results for k in r.history.keys()):
            table.update(self._key_columns(key, table["best_epoch"]))
        if self.stopped or any("epochs_trained" in r.params for r in self.results):
            table["epochs_trained"] = np.array([r.history.n_epochs for r in self.results])
            table["stop_reason"] = objects_column([self.stopped.get(i, {}).get("reason", "")
                                                  for i in range(len(self.results))])
        return table

    def _key_columns(self, key: str, epochs: np.ndarray) -> dict:
        """``split<k>_<key>``, ``mean_<key>``, ``std_<key>`` and ``rank_<key>`` at each candidate's epoch."""
        per_fold = np.array([r.history[key][:, e - 1] if key in r.history else np.full(r.n_folds, np.nan)
                             for r, e in zip(self.results, epochs)])  # (candidates, folds)
        columns = {f"split{k}_{key}": per_fold[:, k] for k in range(per_fold.shape[1])}
        columns[f"mean_{key}"], columns[f"std_{key}"] = fold_stats(per_fold.T)[:2]
        if key == self.select:  # rank by the choice itself, so the best candidate is rank 1
            columns[f"rank_{key}"] = _rank(self._choice_ranks(), "min")
        else:
            columns[f"rank_{key}"] = _rank(columns[f"mean_{key}"], resolve_mode("auto", key))
        return columns

    def to_frame(self) -> Any:
        """:attr:`cv_results` as a ``pandas.DataFrame`` (needs pandas)."""
        return self.cv_results.to_frame()

    def ranking(self) -> list[int]:
        """Candidate indices from best to worst (by ``selection_score``)."""
        return [int(i) for i in np.argsort(self._choice_ranks(), kind="stable")]

    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print the best candidate, then every candidate from best to worst.

        Each line reads ``mean (std) with: params, epoch N``: the mean and
        standard deviation (``ddof=1``, as the first line says) across folds of
        ``select`` at the candidate's epoch, like the classic loop over
        scikit-learn's ``cv_results_``. A note follows when the best
        candidate's epoch is its last one (train longer) or its curve is flat.
        """
        lines = [f"Best: {self.best_score:f} ({self.best_std:f}) using {self.best_params!r}, "
                 f"epoch {self.best_epoch} ({self.select}, mean (std with ddof=1) over "
                 f"{self.best_result.n_folds} folds)"]
        for i in self.ranking():
            s = self.selections[i]
            lines.append(f"{s.mean:f} ({s.std:f}) with: {self.candidates[i]!r}, epoch {s.epoch}")
        if self.best_selection.note:
            lines.append(f"note: {self.best_selection.note}")
        print_fn("\n".join(lines))

    def compare_to_best(self, key: str | None = None, *, epoch: Any = "selected",
                        confidence: float = 0.95) -> Table:
        """Each candidate against the best: :func:`kfold.compare` (candidate − best), best first.

        ``epoch="selected"`` reads each candidate at its own selected epoch;
        None at each fold's last epoch; an int at that epoch for all.
        """
        key = key or self.select
        rows = []
        for i in self.ranking():
            pair = (self.selections[i].epoch, self.best_epoch) if epoch == "selected" else epoch
            rows.append((i, compare(self.results[i], self.best_result, key, epoch=pair,
                                    confidence=confidence)))
        return Table({
            "rank": np.arange(1, len(rows) + 1), "params": objects_column([self.candidates[i] for i, _ in rows]),
            "epoch": objects_column([c.epochs[0] for _, c in rows]),
            "mean_difference": np.array([c.mean_difference for _, c in rows]),
            "t_statistic": np.array([c.t_statistic for _, c in rows]),
            "p_value": np.array([c.p_value for _, c in rows]),
            "ci_low": np.array([c.ci[0] for _, c in rows]), "ci_high": np.array([c.ci[1] for _, c in rows]),
        })

    def reselect(self, **changes: Any) -> "SearchResult":
        """The same curves, chosen again with other ``select``, ``skip``, ``smooth``, ``mode`` or ``rule``.

        Nothing is retrained; the new result has no ``best_model``.
        """
        for name in changes:
            if name not in ("select", "skip", "smooth", "mode", "rule"):
                fail(name, "one of select, skip, smooth, mode, rule", changes[name], error=TypeError)
        changes.setdefault("mode", "auto" if "select" in changes else self.mode)
        return dataclasses.replace(self, best_model=None, refit_epochs=None, **changes)

    def to_dict(self) -> dict:
        """Plain Python types for JSON; values that are not JSON become their ``repr``."""
        return {"results": [r.to_dict() for r in self.results], "candidates": plain(self.candidates),
                "select": self.select, "skip": self.skip, "smooth": self.smooth, "mode": self.mode,
                "rule": self.rule, "params": plain(self.params), "refit_epochs": self.refit_epochs}

    @classmethod
    def from_dict(cls, data: dict) -> "SearchResult":
        """Rebuild a search from :meth:`to_dict` output (without ``best_model``)."""
        results = [CVResult.from_dict(r) for r in data["results"]]
        fields = {k: data[k] for k in ("candidates", "select", "skip", "smooth", "mode", "rule",
                                       "params", "refit_epochs")}
        return cls(results=results, **fields)


    def __repr__(self) -> str:
        return (f"SearchResult(n_candidates={len(self.candidates)}, n_folds={self.best_result.n_folds}, "
                f"best_params={self.best_params!r}, best_epoch={self.best_epoch})")
