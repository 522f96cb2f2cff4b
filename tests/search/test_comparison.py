"""kfold.compare (kfold/comparison.py): the corrected resampled t-test, checked by hand and against scipy."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import kfold
from kfold import CVHistory, CVResult, KFold, RepeatedKFold, ShuffleSplit, compare
from kfold.search._student_t import betainc, t_cdf, t_ppf, t_two_sided_p


def make_result(values, folds, key="val_acc"):
    """A CVResult whose fold j has the curve values[j] (a list, or a number for one epoch)."""
    curves = [{key: list(np.atleast_1d(v))} for v in values]
    n = len(folds)
    return CVResult(CVHistory(curves), folds, {}, np.zeros(n), np.zeros(n), {})


def hand_t_test(d, n_val, n_train, confidence=0.95):
    """Nadeau & Bengio by hand, scipy's t distribution as the oracle."""
    j = len(d)
    mean, var = float(np.mean(d)), float(np.var(d, ddof=1))
    se = math.sqrt((1 / j + n_val / n_train) * var)
    t = mean / se
    p = 2 * stats.t.sf(abs(t), j - 1)
    half = stats.t.ppf(0.5 + confidence / 2, j - 1) * se
    return mean, t, p, (mean - half, mean + half)


@pytest.mark.parametrize("df", [1, 2, 3, 4.5, 9, 29, 99, 1000])
def test_student_t_matches_scipy(df):
    for t in [-40, -5, -2.3, -1, -0.1, 0, 0.3, 1, 2, 3.7, 10]:
        assert t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), abs=1e-9)
        assert t_two_sided_p(t, df) == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-8, abs=1e-300)
    for q in [1e-6, 0.001, 0.025, 0.3, 0.5, 0.9, 0.975, 0.999999]:
        assert t_ppf(q, df) == pytest.approx(stats.t.ppf(q, df), rel=1e-8, abs=1e-9)


def test_incomplete_beta_matches_scipy():
    from scipy import special

    for a, b, x in [(0.5, 0.5, 0.3), (2, 3, 0.7), (500, 0.5, 0.9), (4.5, 0.5, 0.999), (1, 1, 0.25)]:
        assert betainc(a, b, x) == pytest.approx(special.betainc(a, b, x), rel=1e-10)


def test_t_distribution_edges():
    assert t_two_sided_p(math.inf, 3) == 0.0 and math.isnan(t_two_sided_p(math.nan, 3))
    with pytest.raises(ValueError, match="Invalid `q`"):
        t_ppf(1.0, 3)


def test_kfold_comparison_matches_hand_computation():
    folds = list(KFold(5).split(range(50)))  # 10 held out, 40 trained per fold
    a = [0.80, 0.90, 0.85, 0.80, 0.90]
    b = [0.70, 0.80, 0.85, 0.75, 0.80]
    c = compare(make_result(a, folds), make_result(b, folds), "val_acc")
    mean, t, p, ci = hand_t_test(np.subtract(a, b), 10, 40)
    assert c.mean_difference == pytest.approx(mean)
    assert c.t_statistic == pytest.approx(t)
    assert c.p_value == pytest.approx(p, rel=1e-9)
    assert c.ci == pytest.approx(ci)
    assert (c.n_folds, c.df, c.n_repeats) == (5, 4, 1)
    assert c.test_train_ratio == pytest.approx(0.25)
    naive = stats.ttest_rel(a, b).pvalue  # the uncorrected paired t-test
    assert c.uncorrected_p_value == pytest.approx(naive, rel=1e-9)
    assert c.p_value > c.uncorrected_p_value


def test_confidence_level_changes_the_interval_only():
    folds = list(KFold(4).split(range(20)))
    a, b = make_result([1.0, 2.0, 2.5, 1.5], folds), make_result([0.5, 1.0, 2.0, 1.5], folds)
    c90, c99 = compare(a, b, "val_acc", confidence=0.90), compare(a, b, "val_acc", confidence=0.99)
    assert c90.p_value == c99.p_value
    assert c99.ci[0] < c90.ci[0] < c90.ci[1] < c99.ci[1]
    assert hand_t_test(np.array([0.5, 1.0, 0.5, 0.0]), 5, 15, 0.9)[3] == pytest.approx(c90.ci)
    with pytest.raises(ValueError, match="Invalid `confidence`"):
        compare(a, b, "val_acc", confidence=1.5)


def test_repeated_kfold_uses_all_k_times_r_differences():
    folds = list(RepeatedKFold(n_splits=3, n_repeats=4, random_state=0).split(range(30)))
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.8, 0.05, 12), rng.normal(0.78, 0.05, 12)
    c = compare(make_result(a, folds), make_result(b, folds), "val_acc")
    mean, t, p, ci = hand_t_test(a - b, 10, 20)  # Bouckaert & Frank: J = k·r, n2/n1 = 1/(k-1)
    assert (c.n_folds, c.df, c.n_repeats) == (12, 11, 4)
    assert c.t_statistic == pytest.approx(t) and c.p_value == pytest.approx(p, rel=1e-9)
    assert c.test_train_ratio == pytest.approx(0.5)


def test_shuffle_split_is_not_a_kfold_design():
    folds = list(ShuffleSplit(n_splits=4, test_size=0.25, random_state=0).split(range(40)))
    c = compare(make_result([1, 2, 3, 4], folds), make_result([1, 1, 2, 2], folds), "val_acc")
    assert c.n_repeats == 0 and c.test_train_ratio == pytest.approx(10 / 30)


def test_epoch_choice():
    folds = list(KFold(3).split(range(9)))
    # fold 3 of a stopped after 2 epochs: None reads each fold's last value
    a = make_result([[1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [1.0, 5.0]], folds)
    b = make_result([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 2.0]], folds)
    assert compare(a, b, "val_acc").differences.tolist() == [3.0, 3.0, 3.0]
    assert compare(a, b, "val_acc", epoch=1).differences.tolist() == [1.0, 1.0, 1.0]
    assert compare(a, b, "val_acc", epoch=(2, 1)).differences.tolist() == [2.0, 2.0, 5.0]
    assert compare(a, b, "val_acc").epochs == (None, None)
    with pytest.raises(ValueError, match=r"Invalid `epoch`.*finite 'val_acc'.*epoch=None"):
        compare(a, b, "val_acc", epoch=3)
    with pytest.raises(ValueError, match=r"Invalid `epoch`. Expected None or a 1-based epoch in \[1, 3\]"):
        compare(a, b, "val_acc", epoch=0)
    with pytest.raises(ValueError, match="Invalid `epoch`"):
        compare(a, b, "val_acc", epoch=(1, 2, 3))


def test_identical_results_give_no_difference():
    folds = list(KFold(3).split(range(9)))
    a = make_result([0.25, 0.5, 0.75], folds)
    c = compare(a, a, "val_acc")
    assert (c.mean_difference, c.t_statistic, c.p_value) == (0.0, 0.0, 1.0)
    constant = compare(make_result([0.5, 0.75, 1.0], folds), a, "val_acc")  # always 0.25 better
    assert constant.t_statistic == math.inf and constant.p_value == 0.0


def test_different_fold_manifests_are_refused():
    a = make_result([0.5, 0.6, 0.7], list(KFold(3).split(range(9))))
    b = make_result([0.5, 0.6, 0.7], list(KFold(3, shuffle=True, random_state=0).split(range(9))))
    with pytest.raises(ValueError, match=r"Invalid `result_b`. Expected a result on the same folds.*"
                                         r"folds hash .* vs .*same list of \(train, val\) pairs"):
        compare(a, b, "val_acc")


def test_unknown_key_lists_the_keys():
    folds = list(KFold(2).split(range(4)))
    a = make_result([0.5, 0.6], folds)
    with pytest.raises(ValueError, match=r"Invalid `key`.*\['val_acc'\].*key='val_accuracy'"):
        compare(a, a, "val_accuracy")


def test_comparison_prints_in_words():
    folds = list(KFold(5).split(range(50)))
    c = compare(make_result([0.8, 0.9, 0.85, 0.8, 0.9], folds),
                make_result([0.7, 0.8, 0.85, 0.75, 0.8], folds), "val_acc")
    assert str(c).startswith("val_acc, a - b = 0.07 (95% CI ")
    assert "df = 4, p = 0.08; 5 folds" in str(c)
    assert kfold.Comparison is type(c)


def test_kfold_compare_stays_the_function_once_the_search_modules_are_loaded():
    import pkgutil

    import kfold.search.search_result  # noqa: F401  (imports kfold.search.comparison)

    assert kfold.compare.__module__ == "kfold.search.comparison" and callable(kfold.compare)
    # a submodule named like an export would replace the export on import
    modules = {m.name for m in pkgutil.iter_modules(kfold.__path__)}
    assert not set(kfold._EXPORTS) & modules
