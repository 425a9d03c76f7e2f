"""Aggregating returns over seeds and tasks: normalised scores, IQM, confidence intervals.

The protocol of rliable (Agarwal et al. 2021, "Deep RL at the edge of the statistical precipice"),
in numpy (the `rliable` package would pull arch, statsmodels, pandas, seaborn and absl-py for it):

    score[run, task]   = (R - R_random[task]) / (R_expert[task] - R_random[task])  normalized_return
    IQM(score)         = mean of the middle 50% of all run x task scores           iqm
    95% CI             = percentiles 2.5 and 97.5 of the statistic over `reps`     stratified_bootstrap_ci
                         resamples, each drawing every task's runs (seeds) with
                         replacement from that task's own runs (strata = tasks)

Scores of curves carry extra trailing axes (e.g. evaluation points): a resample draws whole runs,
and the statistic reduces the run axis only, so the band is pointwise along the curve.
`t_interval` is the Student-t interval of a plain mean, for tables of a few seeds of one task.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import numpy as np

BOOTSTRAP_REPS = 50_000
"""rliable's default number of bootstrap resamples (`get_interval_estimates(reps=50000)`)."""
CONFIDENCE = 0.95
_CHUNK_VALUES = 4_000_000
"""Resampled values held at once (the resamples are drawn in chunks to bound memory)."""

Statistic = Callable[[np.ndarray], np.ndarray]
"""Reduces axis 0 (every run of every task, pooled) of a (runs, ...) array to (...)."""


def normalized_return(returns, random: float, expert: float):
    """(R - R_random) / (R_expert - R_random): 0 for the random policy, 1 for the expert."""
    if not (np.isfinite(random) and np.isfinite(expert)) or expert == random:
        raise ValueError(f"normalisation needs two different finite anchors, got random={random}, "
                         f"expert={expert}")
    return (np.asarray(returns, dtype=np.float64) - random) / (expert - random)


def iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean over axis 0: the mean after cutting floor(n/4) values at each end
    (scipy's trim_mean(0.25), as rliable's aggregate_iqm on the flattened run x task scores).
    Sorting the short run axis is several times faster than trim_mean's partition on resamples."""
    ordered = np.sort(np.asarray(scores, dtype=np.float64), axis=0)
    cut = len(ordered) // 4
    return ordered[cut:len(ordered) - cut].mean(axis=0)


def mean(scores: np.ndarray) -> np.ndarray:
    """Mean over axis 0 (every run of every task)."""
    return np.asarray(scores, dtype=np.float64).mean(axis=0)


def _per_task(scores: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """Scores as one (runs, ...) array per task; an ndarray is (runs, tasks, ...)."""
    if isinstance(scores, np.ndarray):
        if scores.ndim < 2:
            raise ValueError(f"scores must be (runs, tasks, ...), got shape {scores.shape}; "
                             "for one task use scores[:, None]")
        tasks = [scores[:, j] for j in range(scores.shape[1])]
    else:
        tasks = [np.asarray(task, dtype=np.float64) for task in scores]
    if not tasks:
        raise ValueError("scores of at least one task are needed")
    tail = tasks[0].shape[1:]
    for j, task in enumerate(tasks):
        if task.ndim < 1 or len(task) == 0:
            raise ValueError(f"task {j} has no runs (shape {task.shape})")
        if task.shape[1:] != tail:
            raise ValueError(f"task {j} has runs of shape {task.shape[1:]}, task 0 of {tail}")
        if not np.isfinite(task).all():
            raise ValueError(f"task {j} has non-finite scores")
    return [task.astype(np.float64, copy=False) for task in tasks]


def pooled(scores: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """Every run of every task along axis 0: the array a Statistic reduces."""
    return np.concatenate(_per_task(scores))


def stratified_resamples(scores: np.ndarray | Sequence[np.ndarray], reps: int,
                         rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Bootstrap resamples of `scores`, in chunks of shape (runs_total, chunk, ...).

    In each resample task j's runs are n_j draws with replacement from task j's own runs
    (whole runs, trailing axes kept together), and the tasks are concatenated in order, so a
    resample never moves a run into another task. Tasks may have different numbers of runs.
    """
    tasks = _per_task(scores)
    per_rep = sum(task.size for task in tasks)
    chunk = max(1, min(reps, _CHUNK_VALUES // max(per_rep, 1)))
    done = 0
    while done < reps:
        size = min(chunk, reps - done)
        yield np.concatenate([task[rng.integers(0, len(task), size=(len(task), size))] for task in tasks])
        done += size


def stratified_bootstrap_ci(scores: np.ndarray | Sequence[np.ndarray], statistic: Statistic = iqm,
                            reps: int = BOOTSTRAP_REPS, confidence: float = CONFIDENCE,
                            seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point estimate, low, high) of `statistic` with its percentile bootstrap interval.

    scores: (runs, tasks, ...) or a sequence of (runs_j, ...) per task. The statistic sees the
    pooled runs (axis 0) and returns the trailing shape; the point estimate is its value on the
    scores themselves. Reproducible: the resamples depend only on `seed`.
    """
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    point = np.asarray(statistic(pooled(scores)))
    rng = np.random.default_rng(seed)
    values = np.concatenate([np.asarray(statistic(batch)).reshape(batch.shape[1], *point.shape)
                             for batch in stratified_resamples(scores, reps, rng)])
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [tail, 100 - tail], axis=0)
    return point, low, high


def t_interval(values, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Mean over axis 0 (runs) and the half-width of its Student-t interval (n - 1 degrees of
    freedom; 0 for a single run). Scalars for 1-d values, arrays of the trailing shape otherwise."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0 or len(values) == 0:
        raise ValueError(f"t_interval needs at least one value along axis 0, got shape {values.shape}")
    center = values.mean(axis=0)
    n = len(values)
    if n < 2:
        return center, np.zeros_like(center)
    return center, stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(axis=0, ddof=1) / np.sqrt(n)
