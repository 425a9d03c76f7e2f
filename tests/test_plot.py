"""`lfo plot`: curves and 95% bands from result.json files found anywhere under the given folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from lfo_ray.data import DatasetMetadata, ObsDataset, ObsEpisode, write_dataset
from lfo_ray.envs.anchors import known_anchors
from lfo_ray.plot import AGGREGATE_PANEL, plot_runs
from lfo_ray.stats import iqm, t_interval


def _write(path, algo, env, seed, curve, env_steps, return_mean, demo=500.0, demos=None):
    path.mkdir(parents=True)
    (path / "result.json").write_text(json.dumps({
        "algo": algo, "env": env, "seed": seed, "curve": curve, "env_steps": env_steps,
        "return_mean": return_mean, "demo_return_mean": demo, "return_std": 0.0,
        **({"demos": str(demos)} if demos else {}),
    }))


def _demos(path, env, anchors):
    """A one-episode demonstrations file whose metadata carries `anchors`."""
    episode = ObsEpisode(np.zeros((3, 2), np.float32), rewards=np.ones(2, np.float32), truncated=True)
    metadata = DatasetMetadata(env_id=env, source="expert:test", extra={"anchors": anchors})
    return write_dataset(ObsDataset.from_episodes([episode], metadata), path)


def _fake_runs(root, algos, seeds, env="CartPole-v1"):
    rng = np.random.default_rng(0)
    for algo_index, algo in enumerate(algos):
        for seed in seeds:
            steps = list(range(0, 1001, 100 * (1 + algo_index)))  # schedules differ per algorithm
            curve = [[s, float(s / 2 + rng.normal(0, 20))] for s in steps]
            # nested at a different depth for each algorithm: the search is recursive
            _write(root.joinpath(algo, *["sweep"] * algo_index, f"seed{seed}"), algo, env, seed, curve,
                   steps[-1], curve[-1][1])


def test_curves_and_bands_per_group(tmp_path):
    algos, seeds = ("ilpo", "bco"), range(3)
    _fake_runs(tmp_path, algos, seeds)
    (tmp_path / "ilpo" / "tune_trial").mkdir()
    (tmp_path / "ilpo" / "tune_trial" / "result.json").write_text('{"a": 1}\n{"a": 2}\n')  # Tune's
    out = tmp_path / "plots" / "cartpole.png"
    result = plot_runs([tmp_path], out)
    assert out.stat().st_size > 10_000 and out.read_bytes()[:4] == b"\x89PNG"
    assert sorted(g.algo for g in result.groups) == sorted(algos)
    assert all(len(g.runs) == len(seeds) for g in result.groups)
    assert [p.name for p in result.skipped] == ["result.json"]
    (ax,) = result.figure.axes
    curves = [line for line in ax.get_lines() if line.get_label().split(" ")[0] in algos]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(curves) == len(algos) and len(bands) == len(algos)
    assert any(line.get_label() == "demonstrations" for line in ax.get_lines())
    for group in result.groups:
        assert group.steps[0] == 0 and group.steps[-1] == 1000
        assert np.all(group.low <= group.mean) and np.all(group.mean <= group.high)


def test_offline_runs_are_a_level_line_and_envs_get_panels(tmp_path):
    for seed in range(4):
        _write(tmp_path / f"bc{seed}", "bc", "CartPole-v1", seed, [], 0, 300.0 + seed)
        _write(tmp_path / f"grid{seed}", "mce_irl", "lfo_ray/GridWorld-v0", seed,
               [[0, -50.0 + seed], [500, 5.0 + seed]], 500, 5.0 + seed, demo=10.0)
    result = plot_runs([tmp_path], tmp_path / "p.png", title="two envs")
    assert [ax.get_title() for ax in result.figure.axes] == ["CartPole-v1", "lfo_ray/GridWorld-v0"]
    (bc,) = [g for g in result.groups if g.algo == "bc"]
    assert bc.flat and bc.mean[0] == pytest.approx(301.5)
    mean, half = t_interval([300.0, 301.0, 302.0, 303.0])
    assert (bc.low[0], bc.high[0]) == pytest.approx((mean - half, mean + half))


def test_plot_cli(tmp_path):
    from tests.conftest import run_cli

    _fake_runs(tmp_path / "runs", ("ilpo",), range(2))
    result = run_cli("plot", str(tmp_path / "runs"), "--out", str(tmp_path / "out.png"))
    assert result.returncode == 0, result.stderr
    assert "1 group(s) from 2 run(s)" in result.stdout and (tmp_path / "out.png").exists()
    result = run_cli("plot", str(tmp_path / "empty_missing"), "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "empty_missing" in result.stderr


def test_normalised_iqm_curves_with_bootstrap_bands_and_the_aggregate_panel(tmp_path):
    anchors = {"Hopper-v5": {"random": 10.0, "expert": 1010.0}, "Walker2d-v5": {"random": 0.0, "expert": 500.0}}
    rng = np.random.default_rng(1)
    for env, a in anchors.items():
        demos = _demos(tmp_path / f"{env}.parquet", env, a)
        for seed in range(5):
            # normalised score s at step x: returns = random + s * (expert - random)
            curve = [[x, a["random"] + (x / 1000 + rng.normal(0, 0.05)) * (a["expert"] - a["random"])]
                     for x in range(0, 1001, 250)]
            _write(tmp_path / env / f"seed{seed}", "gaifo", env, seed, curve, 1000, curve[-1][1],
                   demo=a["expert"], demos=demos)
    result = plot_runs([tmp_path], tmp_path / "n.png", stat="iqm", normalize=True, aggregate=True, reps=500)
    assert [ax.get_title() for ax in result.figure.axes] == ["Hopper-v5", "Walker2d-v5", AGGREGATE_PANEL]
    assert result.figure.axes[0].get_ylabel() == "IQM normalised return"
    assert {env: (a.random, a.expert) for env, a in result.anchors.items()} == {
        env: (a["random"], a["expert"]) for env, a in anchors.items()}
    for group in result.groups:
        a = anchors[group.env]
        raw = np.array([[r for _, r in json.loads(run.path.read_text())["curve"]] for run in group.runs])
        scores = (raw - a["random"]) / (a["expert"] - a["random"])  # (seeds, evaluation points)
        assert group.mean == pytest.approx(iqm(scores))
        assert np.all(group.low <= group.mean) and np.all(group.mean <= group.high)
        assert group.runs[0].demo_return == pytest.approx(1.0)
    (pooled,) = result.aggregates
    assert len(pooled.runs) == 10 and pooled.env == AGGREGATE_PANEL
    assert 0.8 < pooled.low[-1] <= pooled.mean[-1] <= pooled.high[-1] < 1.2
    # Without a seed change the bands are reproducible.
    again = plot_runs([tmp_path], tmp_path / "m.png", stat="iqm", normalize=True, aggregate=True, reps=500)
    assert np.array_equal(again.aggregates[0].low, pooled.low)


def test_normalisation_uses_the_shipped_anchors_unless_given(tmp_path):
    _fake_runs(tmp_path, ("bco",), range(2))
    shipped = known_anchors("CartPole-v1")
    result = plot_runs([tmp_path], tmp_path / "p.png", normalize=True)
    (run,) = result.groups[0].runs[:1]
    raw = json.loads(run.path.read_text())["curve"][0][1]
    assert run.returns[0] == pytest.approx((raw - shipped["random"]) / (shipped["expert"] - shipped["random"]))
    given = plot_runs([tmp_path], tmp_path / "p.png", normalize=True, random={"CartPole-v1": 0.0},
                      expert={"CartPole-v1": 1000.0})
    assert given.groups[0].runs[0].returns[0] == pytest.approx(raw / 1000.0)
    with pytest.raises(ValueError, match="--normalize"):
        plot_runs([tmp_path], tmp_path / "p.png", aggregate=True)


def test_plot_cli_normalised(tmp_path):
    from tests.conftest import env_without_shipped_expert, run_cli

    env_id = env_without_shipped_expert()
    _fake_runs(tmp_path / "runs", ("ilpo",), range(3), env=env_id)
    out = str(tmp_path / "out.png")
    result = run_cli("plot", str(tmp_path / "runs"), "--out", out, "--stat", "iqm", "--normalize",
                     "--expert", f"{env_id}=3000", "--reps", "200")
    assert result.returncode == 0, result.stderr
    assert env_id in result.stdout and "normalised by random" in result.stdout
    assert "final normalised IQM" in result.stdout
    result = run_cli("plot", str(tmp_path / "runs"), "--out", out, "--normalize")
    assert result.returncode == 2 and "no expert return" in result.stderr and f"--expert {env_id}=" in result.stderr
    result = run_cli("plot", str(tmp_path / "runs"), "--out", out, "--normalize", "--expert", "3000")
    assert result.returncode == 2 and "expected ENV=RETURN" in result.stderr
