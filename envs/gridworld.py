"""The imitation-learning tutorial's GridWorld (after Boularias et al. 2011), vectorised.

A square grid; the agent moves UP/DOWN/LEFT/RIGHT (0/1/2/3). Entering a cell pays that cell's
reward: 10 at the goal (bottom-right, which ends the episode), 0 or -1 elsewhere. Moving across
the border pays -1 and leaves the agent in place. Episodes start uniformly among the valid states
(cells from which the goal is reachable without entering a -1 cell) and are truncated after
`max_steps`. With `transition_prob=True` the intended move happens with probability 0.7 and each
other move with probability 0.1.

All dynamics are array operations over the whole grid (`GridWorldSpec.move_table`), shared by the
single env, the batched vector env and the tabular algorithms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
# (row, col) displacement of each action
MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)
NUM_ACTIONS = 4
GOAL_REWARD = 10
BORDER_REWARD = -1.0
INTENDED_PROB = 0.7
TUTORIAL_SEED = 1000
TUTORIAL_WORLD = "tutorial_gridworld.json"


@dataclass(frozen=True)
class GridWorldSpec:
    """One world: its reward map and valid start states.

    reward_map: (size*size,) int64, cell id = row * size + col; the goal (last cell) holds 10.
    valid_states: (N, 2) int64 [row, col], the cells from which the goal is reachable without
        entering a -1 cell (goal excluded), in the tutorial's depth-first order.
    """

    size: int
    reward_map: np.ndarray
    valid_states: np.ndarray

    def __post_init__(self) -> None:
        reward_map = np.asarray(self.reward_map, dtype=np.int64)
        valid = np.asarray(self.valid_states, dtype=np.int64).reshape(-1, 2)
        if reward_map.shape != (self.size * self.size,):
            raise ValueError(
                f"reward_map must have {self.size * self.size} cells for a {self.size}x{self.size} "
                f"grid, got shape {reward_map.shape}"
            )
        if reward_map[-1] != GOAL_REWARD:
            raise ValueError(f"the goal cell (last) must hold {GOAL_REWARD}, got {reward_map[-1]}")
        if len(valid) == 0 or valid.min() < 0 or valid.max() >= self.size:
            raise ValueError(f"valid_states must be non-empty [row, col] pairs inside the grid")
        reward_map.flags.writeable = False
        valid.flags.writeable = False
        object.__setattr__(self, "reward_map", reward_map)
        object.__setattr__(self, "valid_states", valid)

    @property
    def num_states(self) -> int:
        return self.size * self.size

    @property
    def goal(self) -> int:
        return self.num_states - 1

    @property
    def valid_state_ids(self) -> np.ndarray:
        return self.valid_states[:, 0] * self.size + self.valid_states[:, 1]

    @classmethod
    def from_seed(cls, seed: int, size: int = 50) -> "GridWorldSpec":
        """The tutorial's generator: goal 10, then floor((n-1)/3) of the other n cells set to -1."""
        n = size * size
        reward_map = np.zeros(n, dtype=np.int64)
        reward_map[-1] = GOAL_REWARD
        rng = np.random.default_rng(seed)
        reward_map[rng.choice(n - 1, size=(n - 1) // 3, replace=False)] = -1
        return cls(size, reward_map, reachable_states(reward_map, size))

    @classmethod
    def from_file(cls, path: str | Path) -> "GridWorldSpec":
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            reward_map = np.asarray(data["reward_map"], dtype=np.int64)
            valid = np.asarray(data["valid_states"], dtype=np.int64)
        except FileNotFoundError:
            raise ValueError(f"{path}: no such GridWorld definition file") from None
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{path}: expected JSON with 'reward_map' (size*size numbers) and "
                f"'valid_states' ([row, col] pairs): {error}"
            ) from None
        size = int(round(np.sqrt(reward_map.size)))
        if size * size != reward_map.size:
            raise ValueError(f"{path}: reward_map has {reward_map.size} cells, not a square grid")
        return cls(size, reward_map, valid)

    @classmethod
    def tutorial(cls) -> "GridWorldSpec":
        """The tutorial's own 50x50 world, shipped with the package (equal to seed 1000)."""
        with resources.as_file(resources.files("lfo_ray.envs") / "worlds" / TUTORIAL_WORLD) as path:
            return cls.from_file(path)

    def to_dict(self) -> dict[str, Any]:
        return {"reward_map": self.reward_map.tolist(), "valid_states": self.valid_states.tolist()}

    def move_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic dynamics for every (cell, move).

        Returns next_state (S, 4) int64 and reward (S, 4) float64: the cell reached by making
        each move from each cell, and the reward paid for it.
        """
        cells = np.arange(self.num_states)
        rows, cols = np.divmod(cells, self.size)
        target = np.stack([rows, cols], axis=1)[:, None, :] + MOVES[None, :, :]
        off_grid = ((target < 0) | (target >= self.size)).any(axis=2)
        target = np.clip(target, 0, self.size - 1)
        next_state = target[..., 0] * self.size + target[..., 1]
        reward = np.where(off_grid, BORDER_REWARD, self.reward_map[next_state]).astype(np.float64)
        return next_state, reward


def reachable_states(reward_map: np.ndarray, size: int) -> np.ndarray:
    """Cells connected to the goal through cells that are not -1, in the tutorial's order.

    The tutorial recurses from the goal visiting up, down, left, right; this is the same
    depth-first preorder with an explicit stack (visited checked on pop, neighbours pushed
    in reverse), so no recursion limit applies.
    """
    visited = np.zeros(size * size, dtype=bool)
    order: list[list[int]] = []
    stack = [(size - 1, size - 1)]
    while stack:
        row, col = stack.pop()
        cell = row * size + col
        if visited[cell] or reward_map[cell] == -1:
            continue
        visited[cell] = True
        order.append([row, col])
        for d_row, d_col in MOVES[::-1]:
            r, c = row + d_row, col + d_col
            if 0 <= r < size and 0 <= c < size and not visited[r * size + c]:
                stack.append((r, c))
    order.remove([size - 1, size - 1])
    return np.array(order, dtype=np.int64).reshape(-1, 2)


def noise_matrix(transition_prob: bool) -> np.ndarray:
    """(4, 4) probability of making move m when choosing action a."""
    if not transition_prob:
        return np.eye(NUM_ACTIONS)
    other = (1.0 - INTENDED_PROB) / (NUM_ACTIONS - 1)
    return np.full((NUM_ACTIONS, NUM_ACTIONS), other) + np.eye(NUM_ACTIONS) * (INTENDED_PROB - other)


def make_spec(seed: int | None = None, world: str | Path | None = None, size: int = 50) -> GridWorldSpec:
    if seed is not None and world is not None:
        raise ValueError("give either seed (generate a world) or world (a definition file), not both")
    if world is not None:
        return GridWorldSpec.from_file(world)
    if seed is not None:
        return GridWorldSpec.from_seed(seed, size)
    if size != 50:
        raise ValueError(f"size={size} needs a seed: the shipped tutorial world is 50x50")
    return GridWorldSpec.tutorial()


class _Core:
    """Batched GridWorld state shared by the single and the vector env."""

    def __init__(self, spec: GridWorldSpec, transition_prob: bool, max_steps: int) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        self.spec = spec
        self.transition_prob = transition_prob
        self.max_steps = max_steps
        self.next_state, self.reward = spec.move_table()
        self.move_probs = noise_matrix(transition_prob)

    def starts(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return self.spec.valid_state_ids[rng.integers(len(self.spec.valid_states), size=count)]

    def step(self, rng: np.random.Generator, states: np.ndarray, actions: np.ndarray):
        moves = actions
        if self.transition_prob:
            cumulative = self.move_probs[actions].cumsum(axis=1)
            moves = (rng.random(len(actions))[:, None] > cumulative).sum(axis=1)
            moves = np.minimum(moves, NUM_ACTIONS - 1)
        next_states = self.next_state[states, moves]
        rewards = self.reward[states, moves]
        terminated = next_states == self.spec.goal
        return next_states, rewards, terminated


def _check_actions(actions: Any, count: int) -> np.ndarray:
    actions = np.asarray(actions)
    if actions.shape != (count,) or not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(f"expected {count} integer actions, got {actions!r}")
    if actions.min() < 0 or actions.max() >= NUM_ACTIONS:
        raise ValueError(f"actions must be in 0..{NUM_ACTIONS - 1}, got {actions!r}")
    return actions.astype(np.int64)


class GridWorldEnv(gym.Env):
    """Observation: the cell id (Discrete(size*size)); action: Discrete(4)."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, seed: int | None = None, world: str | Path | None = None, size: int = 50,
                 transition_prob: bool = False, max_steps: int = 200,
                 render_mode: str | None = None) -> None:
        self.core = _Core(make_spec(seed, world, size), transition_prob, max_steps)
        self.spec_world = self.core.spec
        self.observation_space = gym.spaces.Discrete(self.spec_world.num_states)
        self.action_space = gym.spaces.Discrete(NUM_ACTIONS)
        self.render_mode = render_mode
        self._state = int(self.spec_world.valid_state_ids[0])
        self._steps = 0

    @property
    def reward_map(self) -> np.ndarray:
        return self.spec_world.reward_map

    @property
    def valid_states(self) -> np.ndarray:
        return self.spec_world.valid_states

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._state = int(self.core.starts(self.np_random, 1)[0])
        self._steps = 0
        return self._state, {}

    def step(self, action):
        action = _check_actions(np.asarray([action]), 1)
        next_state, reward, terminated = self.core.step(self.np_random, np.array([self._state]), action)
        self._state = int(next_state[0])
        self._steps += 1
        truncated = self._steps >= self.core.max_steps and not terminated[0]
        return self._state, float(reward[0]), bool(terminated[0]), bool(truncated), {}

    def render(self) -> np.ndarray:
        return render_cells(self.spec_world, np.array([self._state]))[0]


class GridWorldVectorEnv(gym.vector.VectorEnv):
    """`num_envs` GridWorlds stepped as one array operation; resets in the same step."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int = 1, seed: int | None = None, world: str | Path | None = None,
                 size: int = 50, transition_prob: bool = False, max_steps: int = 200,
                 spec: GridWorldSpec | None = None) -> None:
        spec = spec if spec is not None else make_spec(seed, world, size)
        self.core = _Core(spec, transition_prob, max_steps)
        self.num_envs = num_envs
        self.single_observation_space = gym.spaces.Discrete(self.core.spec.num_states)
        self.single_action_space = gym.spaces.Discrete(NUM_ACTIONS)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self._rng = np.random.default_rng()
        self._states = np.zeros(num_envs, dtype=np.int64)
        self._steps = np.zeros(num_envs, dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._states = self.core.starts(self._rng, self.num_envs)
        self._steps[:] = 0
        return self._states.copy(), {}

    def step(self, actions):
        actions = _check_actions(actions, self.num_envs)
        next_states, rewards, terminated = self.core.step(self._rng, self._states, actions)
        self._steps += 1
        truncated = (self._steps >= self.core.max_steps) & ~terminated
        done = terminated | truncated
        info: dict[str, Any] = {}
        if done.any():
            info["final_obs"] = next_states.copy()
            info["_final_obs"] = done.copy()
            next_states = next_states.copy()
            next_states[done] = self.core.starts(self._rng, int(done.sum()))
            self._steps[done] = 0
        self._states = next_states
        return next_states.copy(), rewards, terminated, truncated, info


# Colours of the pixel rendering (RGB).
_FLOOR, _PIT, _GOAL, _AGENT = (235, 235, 235), (90, 90, 90), (40, 170, 60), (220, 40, 40)


def render_cells(spec: GridWorldSpec, states: np.ndarray, cell_px: int = 1) -> np.ndarray:
    """(B,) cell ids -> (B, size*cell_px, size*cell_px, 3) uint8 images of the grid and agent."""
    base = np.empty((spec.num_states, 3), dtype=np.uint8)
    base[:] = _FLOOR
    base[spec.reward_map == -1] = _PIT
    base[spec.goal] = _GOAL
    images = np.broadcast_to(base, (len(states), spec.num_states, 3)).copy()
    images[np.arange(len(states)), states] = _AGENT
    images = images.reshape(len(states), spec.size, spec.size, 3)
    if cell_px > 1:
        images = images.repeat(cell_px, axis=1).repeat(cell_px, axis=2)
    return images


def q_values(spec: GridWorldSpec, values: np.ndarray, gamma: float, transition_prob: bool,
             reward: np.ndarray | None = None) -> np.ndarray:
    """(S, 4) action values under the known model, given state values (S,).

    `reward` (S, 4 moves) replaces the true reward (for planning on a learned one); entering
    the goal ends the episode, so nothing is bootstrapped from it.
    """
    next_state, true_reward = spec.move_table()
    reward = true_reward if reward is None else reward
    continuation = np.where(next_state == spec.goal, 0.0, values[next_state])
    per_move = reward + gamma * continuation
    return per_move @ noise_matrix(transition_prob).T


def value_iteration(spec: GridWorldSpec, gamma: float = 0.99, transition_prob: bool = False,
                    tol: float = 1e-8, max_iters: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Optimal state values (S,) and greedy policy (S,) of the true reward, by array sweeps."""
    values = np.zeros(spec.num_states)
    for _ in range(max_iters):
        new_values = q_values(spec, values, gamma, transition_prob).max(axis=1)
        if np.max(np.abs(new_values - values)) < tol:
            values = new_values
            break
        values = new_values
    return values, q_values(spec, values, gamma, transition_prob).argmax(axis=1)
