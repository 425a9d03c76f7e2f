"""MaxEnt IRL: a short run on the real GridWorld from observations only."""

from __future__ import annotations

import numpy as np

from lfo_ray.algorithms.tabular.irl import REWARD_FILE, REWARD_PLOT
from lfo_ray.experiment import CHECKPOINT_DIR

from tests.algorithms.gridworld_helpers import train_and_score



def test_maxent_irl_learns_gridworld_and_saves_its_reward(tmp_path):
    result, exact = train_and_score("maxent_irl", tmp_path, {"iterations": 25})
    reward = np.load(tmp_path / CHECKPOINT_DIR / REWARD_FILE)
    assert reward.shape == (2500,)
    assert (tmp_path / CHECKPOINT_DIR / REWARD_PLOT).stat().st_size > 0
    assert result["metrics"]["reward_corr"] > 0.3
    assert result["env_steps"] == 0
    assert exact > 8.5, exact
