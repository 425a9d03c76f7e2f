"""DAgger: a short aggregation run on the real GridWorld, labelled by the value-iteration expert."""

from __future__ import annotations

import pytest

from lfo_ray.algorithms.dagger.config import DAggerConfig

from tests.algorithms.gridworld_helpers import train_and_score



def test_config_rejects_bad_beta():
    with pytest.raises(ValueError, match="beta"):
        DAggerConfig(beta=1.5)


def test_dagger_aggregates_and_learns_gridworld(tmp_path):
    overrides = {"train_steps": 400, "rounds": 2, "steps_per_round": 50, "round_train_steps": 200,
                 "curve_episodes": 16}
    result, exact = train_and_score("dagger", tmp_path, overrides)
    assert result["env_steps"] == 2 * 50 * 64
    assert result["metrics"]["dataset_size"] > 55_386
    assert len(result["curve"]) == 2
    assert exact > 9.0, exact
