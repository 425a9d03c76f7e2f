"""GridWorld seen through pixels: the image-observation environment for image ILPO.

Why this one: it installs with nothing beyond numpy, renders a whole batch with one indexing
operation, and has an exact optimal expert (value iteration), so image-based imitation can be
compared with the vector/tabular results on the same dynamics. MiniGrid was the alternative;
it adds pygame and per-env Python rendering for no gain here.

Observation: (size*cell_px, size*cell_px, 3) uint8 — floor light grey, -1 cells dark grey, goal
green, agent red. The default world is a 10x10 grid generated from seed 0 by the tutorial's rule,
40x40 pixels, 50-step horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from lfo_ray.envs.gridworld import (
    _AGENT,
    NUM_ACTIONS,
    GridWorldSpec,
    GridWorldVectorEnv,
    make_spec,
    render_cells,
    value_iteration,
)

DEFAULTS = {"size": 10, "seed": 0, "cell_px": 4, "max_steps": 50}


def _spec(seed: int | None, world: str | Path | None, size: int) -> GridWorldSpec:
    return make_spec(seed if world is None else None, world, size)


class PixelGridWorldVectorEnv(gym.vector.VectorEnv):
    """A batched GridWorld whose observations are rendered images."""

    metadata = GridWorldVectorEnv.metadata

    def __init__(self, num_envs: int = 1, seed: int | None = DEFAULTS["seed"],
                 world: str | Path | None = None, size: int = DEFAULTS["size"],
                 cell_px: int = DEFAULTS["cell_px"], transition_prob: bool = False,
                 max_steps: int = DEFAULTS["max_steps"]) -> None:
        if cell_px < 1:
            raise ValueError(f"cell_px must be >= 1, got {cell_px}")
        spec = _spec(seed, world, size)
        self.grid = GridWorldVectorEnv(num_envs, transition_prob=transition_prob,
                                       max_steps=max_steps, spec=spec)
        self.cell_px = cell_px
        self.num_envs = num_envs
        side = spec.size * cell_px
        self.single_observation_space = gym.spaces.Box(0, 255, (side, side, 3), np.uint8)
        self.single_action_space = gym.spaces.Discrete(NUM_ACTIONS)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)

    @property
    def world(self) -> GridWorldSpec:
        return self.grid.core.spec

    def _render(self, cells: np.ndarray) -> np.ndarray:
        return render_cells(self.world, cells, self.cell_px)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        cells, info = self.grid.reset(seed=seed, options=options)
        return self._render(cells), info

    def step(self, actions):
        cells, rewards, terminated, truncated, info = self.grid.step(actions)
        if "final_obs" in info:
            info = dict(info, final_obs=self._render(info["final_obs"]))
        return self._render(cells), rewards, terminated, truncated, info


class PixelGridWorldEnv(gym.Env):
    """Single-env view of PixelGridWorldVectorEnv (one sub-env, autoreset handled by the caller)."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, **kwargs: Any) -> None:
        self.vector = PixelGridWorldVectorEnv(num_envs=1, **kwargs)
        self.observation_space = self.vector.single_observation_space
        self.action_space = self.vector.single_action_space
        self.render_mode = "rgb_array"
        self._last = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, info = self.vector.reset(seed=seed if seed is not None else int(self.np_random.integers(2**31)))
        self._last = obs[0]
        return obs[0], info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.vector.step(np.array([action], dtype=np.int64))
        if "final_obs" in info:
            obs = info["final_obs"]
        self._last = obs[0]
        return obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), {}

    def render(self) -> np.ndarray:
        return self._last


def agent_cells(images: np.ndarray, size: int, cell_px: int) -> np.ndarray:
    """(B, H, W, 3) rendered images -> (B,) cell id of the agent."""
    corner = images[:, ::cell_px, ::cell_px, :].reshape(len(images), size * size, 3)
    is_agent = np.all(corner == np.array(_AGENT, dtype=np.uint8), axis=2)
    if not is_agent.any(axis=1).all():
        raise ValueError("an image has no agent pixel; is it a PixelGridWorld observation?")
    return is_agent.argmax(axis=1)


@dataclass(frozen=True)
class PixelExpert:
    """The value-iteration expert, reading the agent's cell off the image."""

    table: np.ndarray
    size: int
    cell_px: int

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.table[agent_cells(np.asarray(obs), self.size, self.cell_px)]


def pixel_expert(**env_kwargs: Any) -> PixelExpert:
    kwargs = {**DEFAULTS, **env_kwargs}
    spec = _spec(kwargs["seed"], kwargs.get("world"), kwargs["size"])
    _, greedy = value_iteration(spec, gamma=0.999,
                                transition_prob=bool(kwargs.get("transition_prob", False)))
    return PixelExpert(greedy, spec.size, kwargs["cell_px"])
