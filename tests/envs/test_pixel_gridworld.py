import numpy as np

from lfo_ray.envs import make_vector_env
from lfo_ray.envs.gridworld import GridWorldSpec, render_cells
from lfo_ray.envs.pixel_gridworld import agent_cells, pixel_expert
from lfo_ray.rollout import evaluate_policy


def test_observations_are_uint8_images_that_encode_the_agent_cell():
    env = make_vector_env("lfo_ray/PixelGridWorld-v0", 8)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (8, 40, 40, 3) and obs.dtype == np.uint8
    cells = agent_cells(obs, 10, 4)
    spec = GridWorldSpec.from_seed(0, 10)
    assert set(cells.tolist()) <= set(spec.valid_state_ids.tolist())
    assert np.array_equal(render_cells(spec, cells, 4), obs)


def test_pixel_expert_is_optimal():
    env = make_vector_env("lfo_ray/PixelGridWorld-v0", 16)
    returns = evaluate_policy(pixel_expert(), env, 64, seed=0)
    assert np.all(returns == 10.0)
