"""Maximum causal entropy IRL: short runs on the real GridWorld, deterministic and noisy."""

from __future__ import annotations

import pytest

from lfo_ray.algorithms.mce_irl.config import MCEIRLConfig

from tests.algorithms.gridworld_helpers import train_and_score



def test_config_rejects_undiscounted_soft_value_iteration():
    with pytest.raises(ValueError, match="gamma"):
        MCEIRLConfig(gamma=1.0)


def test_mce_irl_learns_gridworld(tmp_path):
    result, exact = train_and_score("mce_irl", tmp_path, {"iterations": 25})
    assert result["metrics"]["reward_corr"] > 0.3
    assert exact > 9.0, exact


@pytest.mark.learning
def test_mce_irl_on_noisy_transitions_beats_uniform_by_far(tmp_path):
    _, exact = train_and_score("mce_irl", tmp_path, {"iterations": 25}, noisy=True)
    assert exact > -10.0, exact
