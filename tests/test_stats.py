"""lfo_ray.stats: normalised return, IQM and stratified bootstrap intervals on hand inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lfo_ray.stats import (iqm, mean, normalized_return, pooled, stratified_bootstrap_ci,
                           stratified_resamples, t_interval)


def test_normalized_return_maps_random_to_0_and_expert_to_1():
    assert normalized_return([-20.0, 100.0, 40.0], random=-20.0, expert=100.0) == pytest.approx([0, 1, 0.5])
    # Negative returns (Acrobot's -500 random, -80 expert) normalise the same way.
    assert normalized_return(-290.0, random=-500.0, expert=-80.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="two different finite anchors"):
        normalized_return(1.0, random=3.0, expert=3.0)


def test_iqm_is_the_mean_of_the_middle_half():
    assert iqm(np.arange(1.0, 9.0)) == pytest.approx(4.5)  # (3 + 4 + 5 + 6) / 4
    assert iqm(np.array([0.0, 1.0, 2.0, 3.0, 1000.0])) == pytest.approx(2.0)  # floor(5/4) = 1 cut per end
    assert iqm(np.array([5.0, -7.0, 9.0])) == pytest.approx(7 / 3)  # fewer than 4 runs: nothing cut
    # Over runs x tasks: all 12 scores pooled, the 3 lowest and 3 highest dropped.
    scores = np.array([[0.0, 10.0, 100.0], [1.0, 11.0, 101.0], [2.0, 12.0, 102.0], [3.0, 13.0, 103.0]])
    assert iqm(pooled(scores)) == pytest.approx(np.mean([3.0, 10.0, 11.0, 12.0, 13.0, 100.0]))
    for n in range(1, 13):  # rliable's definition: scipy's 25% trimmed mean
        values = np.random.default_rng(n).normal(size=n)
        assert iqm(values) == pytest.approx(stats.trim_mean(values, 0.25))
    # Curves: one IQM per evaluation point.
    curves = np.stack([np.arange(1.0, 9.0), 10 * np.arange(1.0, 9.0)], axis=1)
    assert iqm(curves) == pytest.approx([4.5, 45.0])


def test_stratified_resamples_keep_each_task_within_its_own_runs():
    # Task 0's runs are 0..4, task 1's 100..102 (fewer runs: tasks may differ in size).
    scores = [np.arange(5.0), np.array([100.0, 101.0, 102.0])]
    draws = list(stratified_resamples(scores, reps=500, rng=np.random.default_rng(1)))
    resampled = np.concatenate(draws, axis=1)
    assert resampled.shape == (8, 500)
    assert np.isin(resampled[:5], scores[0]).all() and np.isin(resampled[5:], scores[1]).all()
    # Resampling actually varies the runs (with replacement), it is not the identity.
    assert len({tuple(column) for column in resampled[:5].T}) > 100


def test_whole_runs_are_resampled_along_a_curve():
    runs = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])  # (runs, points)
    (batch,) = stratified_resamples([runs], reps=50, rng=np.random.default_rng(0))
    assert batch.shape == (3, 50, 3)
    assert (batch == batch[..., :1]).all()  # each drawn run keeps its own curve


def _seeds(n, rng):
    return rng.normal(loc=[0.3, 0.8], scale=0.2, size=(n, 2))  # (runs, tasks)


def test_bootstrap_ci_contains_the_point_estimate_and_shrinks_with_more_seeds():
    rng = np.random.default_rng(0)
    few, many = _seeds(5, rng), _seeds(80, rng)
    point, low, high = stratified_bootstrap_ci(few, iqm, reps=2000)
    assert point == pytest.approx(iqm(pooled(few)))
    assert low < point < high
    _, low_many, high_many = stratified_bootstrap_ci(many, iqm, reps=2000)
    assert high_many - low_many < 0.5 * (high - low)
    # For the plain mean of one task the bootstrap interval is close to the t interval.
    one_task = many[:, :1]
    _, low_mean, high_mean = stratified_bootstrap_ci(one_task, mean, reps=4000)
    center, half = t_interval(one_task[:, 0])
    assert (low_mean, high_mean) == pytest.approx((center - half, center + half), abs=0.2 * half)


def test_bootstrap_is_reproducible_with_a_seed_and_bands_curves_pointwise():
    rng = np.random.default_rng(3)
    curves = rng.normal(size=(6, 2, 4)).cumsum(axis=2)  # (runs, tasks, evaluation points)
    first = stratified_bootstrap_ci(curves, iqm, reps=300, seed=7)
    again = stratified_bootstrap_ci(curves, iqm, reps=300, seed=7)
    other = stratified_bootstrap_ci(curves, iqm, reps=300, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])
    point, low, high = first
    assert point.shape == low.shape == high.shape == (4,)
    assert np.all(low <= point) and np.all(point <= high)


def test_bad_scores_are_refused():
    with pytest.raises(ValueError, match=r"\(runs, tasks, \.\.\.\)"):
        stratified_bootstrap_ci(np.arange(4.0))
    with pytest.raises(ValueError, match="non-finite"):
        stratified_bootstrap_ci([np.array([1.0, np.nan])])
    with pytest.raises(ValueError, match="task 1 has runs of shape"):
        stratified_bootstrap_ci([np.zeros((3, 2)), np.zeros((3, 4))])


def test_t_interval_on_hand_values():
    center, half = t_interval([300.0, 301.0, 302.0, 303.0])
    assert center == pytest.approx(301.5)
    assert half == pytest.approx(3.182446 * np.std([300, 301, 302, 303], ddof=1) / 2, rel=1e-5)
    assert t_interval([7.0]) == (7.0, 0.0)


def test_matches_rliable_on_the_same_scores():
    # Reference: rliable 1.2.0 (arch 7.2, pandas 2), np.random.seed(0), in a separate venv:
    # rly.get_interval_estimates({"x": scores}, lambda s: np.array([metrics.aggregate_iqm(s)]), reps=50000)
    scores = np.random.default_rng(0).normal([0.3, 0.8, 0.5], 0.2, size=(5, 3))
    point, low, high = stratified_bootstrap_ci(scores, iqm)
    assert point == pytest.approx(0.5158954443682472, abs=1e-12)
    # Different random streams: the interval ends agree within Monte Carlo error at 50,000 resamples.
    assert (low, high) == pytest.approx((0.42088619719329534, 0.5939142225944768), abs=3e-3)
