"""`lfo plot`: curves and 95% bands from result.json files found anywhere under the given folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from lfo_ray.plot import confidence_band, plot_runs


def _write(path, algo, env, seed, curve, env_steps, return_mean, demo=500.0):
    path.mkdir(parents=True)
    (path / "result.json").write_text(json.dumps({
        "algo": algo, "env": env, "seed": seed, "curve": curve, "env_steps": env_steps,
        "return_mean": return_mean, "demo_return_mean": demo, "return_std": 0.0,
    }))


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
    mean, low, high = confidence_band(np.array([[300.0], [301.0], [302.0], [303.0]]))
    assert (low[0], high[0]) == pytest.approx((bc.low[0], bc.high[0]))
    assert high[0] - mean[0] == pytest.approx(3.182446 * np.std([300, 301, 302, 303], ddof=1) / 2, rel=1e-5)


def test_plot_cli(tmp_path):
    from tests.conftest import run_cli

    _fake_runs(tmp_path / "runs", ("ilpo",), range(2))
    result = run_cli("plot", str(tmp_path / "runs"), "--out", str(tmp_path / "out.png"))
    assert result.returncode == 0, result.stderr
    assert "1 group(s) from 2 run(s)" in result.stdout and (tmp_path / "out.png").exists()
    result = run_cli("plot", str(tmp_path / "empty_missing"), "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "empty_missing" in result.stderr
