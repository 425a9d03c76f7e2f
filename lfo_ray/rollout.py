"""Stepping a gymnasium vector env and turning it into clean transitions.

Vector envs reset finished sub-envs either in the same step (final observation in info) or on
the next step (that step ignores its action and is not a real transition). `VectorDriver` hides
the difference: every step yields (obs, action, reward, next_obs, terminated, truncated) rows
with a `valid` mask, and episode returns are tracked per sub-env.

Box actions are clipped to the space's bounds on their way into the env, while the transition keeps
the action as given: a Gaussian policy's raw sample is what its log-prob is of, and the env's
dynamics and control costs see an action inside the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from lfo_ray.core import ActingPolicy, Policy

if TYPE_CHECKING:
    from lfo_ray.batch import SampleBatch


class StepBatch(NamedTuple):
    """One step of B sub-envs. Rows where `valid` is False are autoreset steps, not transitions.
    (A NamedTuple: immutable like a frozen dataclass, and ~5x cheaper to build once per env step.)

    obs, next_obs: (B, *obs_shape); next_obs is the true successor (the final observation when
    the episode ended). actions: (B, ...); rewards: (B,) float32; terminated, truncated,
    valid: (B,) bool.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray


class VectorDriver:
    """Steps a vector env and tracks the return of each sub-env's running episode."""

    def __init__(self, env: gym.vector.VectorEnv, seed: int | None) -> None:
        self.env = env
        self.mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if self.mode == AutoresetMode.DISABLED:
            raise ValueError("vector envs with autoreset disabled are not supported")
        self.num_envs = env.num_envs
        space = env.single_action_space
        self._clip = (space.low, space.high) if isinstance(space, gym.spaces.Box) else None
        self.obs, _ = env.reset(seed=seed)
        self._resetting: np.ndarray | None = None
        """Sub-envs whose next step is an autoreset (NEXT_STEP mode), None when there are none."""
        self.all_valid = np.ones(self.num_envs, dtype=bool)
        self.all_valid.flags.writeable = False
        """The valid mask of every step with no autoreset row (one shared, read-only array)."""
        self._returns = np.zeros(self.num_envs, dtype=np.float64)

    def step(self, actions: np.ndarray) -> tuple[StepBatch, np.ndarray, np.ndarray]:
        """Steps once. Returns the batch and, for episodes that ended, (env indices, returns)."""
        next_obs, rewards, terminated, truncated, info = self.env.step(
            actions if self._clip is None else np.clip(actions, *self._clip).astype(self._clip[0].dtype))
        rewards = np.asarray(rewards, dtype=np.float32)
        terminated, truncated = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
        # Most steps have no autoreset row: they skip the masking (a few numpy calls per step are a
        # measurable share of a CartPole rollout, whose env step costs ~150 us for 64 sub-envs).
        if self._resetting is None:
            valid = self.all_valid
            self._returns += rewards
        else:
            valid = ~self._resetting
            terminated, truncated = terminated & valid, truncated & valid
            self._returns += rewards * valid
        true_next = next_obs
        if self.mode == AutoresetMode.SAME_STEP and "_final_obs" in info:
            final = info["_final_obs"]
            true_next = np.array(next_obs, copy=True)
            true_next[final] = np.stack(list(info["final_obs"][final]))
        batch = StepBatch(obs=self.obs, actions=np.asarray(actions), rewards=rewards, next_obs=true_next,
                          terminated=terminated, truncated=truncated, valid=valid)
        done = terminated | truncated
        ended = done.nonzero()[0]
        returns = self._returns[ended]   # fancy indexing copies
        if len(ended):
            self._returns[ended] = 0.0
        if self.mode == AutoresetMode.NEXT_STEP:
            self._resetting = done if len(ended) else None
        self.obs = next_obs
        return batch, ended, returns


def evaluate_policy(policy: Policy, env: gym.vector.VectorEnv, episodes: int, seed: int) -> np.ndarray:
    """Undiscounted returns of exactly `episodes` episodes, on the env's own reward.

    Each sub-env runs a fixed quota of episodes, so short episodes are not over-represented.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    driver = VectorDriver(env, seed)
    quota = np.full(driver.num_envs, episodes // driver.num_envs)
    quota[: episodes % driver.num_envs] += 1
    results: list[float] = []
    while quota.any():
        batch, ended, returns = driver.step(policy.act(driver.obs))
        for index, episode_return in zip(ended, returns):
            if quota[index] > 0:
                quota[index] -= 1
                results.append(float(episode_return))
    return np.array(results)


@dataclass(frozen=True)
class RolloutStats:
    """What a rollout call reports to the driver (the transitions went to the replay)."""

    env_steps: int
    episode_returns: tuple[float, ...]


def generator_states(owner: object) -> dict[str, Any]:
    """The state of every numpy or torch random generator held as an attribute of `owner`."""
    import torch

    states: dict[str, Any] = {}
    for name, value in vars(owner).items():
        if isinstance(value, np.random.Generator):
            states[name] = value.bit_generator.state
        elif isinstance(value, torch.Generator):
            states[name] = value.get_state()
    return states


def set_generator_states(owner: object, states: dict[str, Any]) -> None:
    """Inverse of `generator_states`."""
    for name, state in states.items():
        generator = getattr(owner, name)
        if isinstance(generator, np.random.Generator):
            generator.bit_generator.state = state
        else:
            generator.set_state(state)


class ActionLog:
    """Action batches in the order they were stepped, kept compact: every `block` batches are stacked
    into one array (a list of small arrays costs ~100 bytes of object overhead each, often more than
    the actions themselves: ~15x the memory for CartPole's 8 int64 actions a step)."""

    def __init__(self, logged: np.ndarray | None = None, block: int = 1024) -> None:
        self.block = block
        self._blocks: list[np.ndarray] = [] if logged is None or not len(logged) else [logged]
        self._recent: list[np.ndarray] = []

    def append(self, actions: np.ndarray) -> None:
        self._recent.append(actions)
        if len(self._recent) == self.block:
            self._blocks.append(np.stack(self._recent))
            self._recent = []

    def __len__(self) -> int:
        return sum(len(b) for b in self._blocks) + len(self._recent)

    def array(self) -> np.ndarray | None:
        """Every logged batch, (steps, B, ...), or None when nothing was stepped."""
        parts = self._blocks + ([np.stack(self._recent)] if self._recent else [])
        return np.concatenate(parts) if parts else None


class RolloutWorker:
    """Steps a vector of seeded envs with a CPU copy of the acting policy.

    `policy_factory(obs_space, action_space)` builds the acting policy: an object with
    `act(obs batch)` and `set_weights(weights)`. Weights arrive as (version, [ref]) so a worker
    fetches them from the object store only when they changed, and a restarted worker picks up
    the current ones with its next call.

    Checkpointing (`state_dict`): an environment's internal state is not data we can save in
    general (simulator objects, wrappers, their own generators), but every gymnasium env is a
    function of its reset seed and the actions taken since. The worker therefore keeps the
    actions it has stepped with, and `load_state_dict` replays them on a freshly seeded env
    (fast-forward, about as fast as sampling without the policy), then restores the random
    generators of the action space and of the policy (any numpy or torch generator attribute).
    A resumed run thus continues the very episodes it was in, step for step.

    The log grows by one action batch a vector step for the worker's whole life (compactly: one
    array per 1,024 steps, `ActionLog`), and a resume replays all of it. It cannot be cut at episode ends: an autoreset draws the next start from the
    env's own generator (one generator for all sub-envs in the native classic-control vector envs),
    not from a seed a fresh env could be reset with; reseeding each episode instead would change
    every run's episodes.
    """

    def __init__(self, env_id: str, env_kwargs: dict, num_envs: int, seed: int,
                 policy_factory) -> None:
        from lfo_ray.envs import make_vector_env

        env = make_vector_env(env_id, num_envs, **env_kwargs)
        env.single_action_space.seed(seed)
        self.seed = seed
        self.driver = VectorDriver(env, seed)
        self.policy: ActingPolicy = policy_factory(env.single_observation_space, env.single_action_space)
        if not isinstance(self.policy, ActingPolicy):
            raise TypeError(f"policy_factory made a {type(self.policy).__name__}, which lacks act/set_weights")
        self.version = -1
        self.actions: ActionLog | None = ActionLog()
        """Every action batch stepped since the seeded reset (None once `evaluate` reset the env)."""
        self.surplus: SampleBatch | None = None
        """Transitions sampled past the last `sample_chunk` quota (a vector step yields up to
        num_envs at once); they open the next chunk, so chunks are exact."""

    def step(self) -> tuple[StepBatch, np.ndarray, np.ndarray]:
        """One vector step with the policy's actions, logged for `state_dict`."""
        actions = np.asarray(self.policy.act(self.driver.obs))
        if self.actions is not None:
            self.actions.append(actions)
        return self.driver.step(actions)

    def state_dict(self) -> dict[str, Any]:
        if self.actions is None:
            raise RuntimeError("this worker ran evaluation episodes on its env: its state cannot be replayed")
        space = self.driver.env.single_action_space
        return {"seed": self.seed,
                "actions": self.actions.array(),
                "surplus": None if self.surplus is None else self.surplus.to_dict(),
                "action_space_rng": space.np_random.bit_generator.state,
                "policy_rngs": generator_states(self.policy)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replays the logged actions on the env reset with the logged seed (see the class doc)."""
        self.seed = state["seed"]
        self.driver = VectorDriver(self.driver.env, self.seed)
        logged = state["actions"]
        for actions in [] if logged is None else logged:
            self.driver.step(actions)
        self.actions = ActionLog(logged)
        if state.get("surplus") is not None:
            from lfo_ray.batch import SampleBatch

            self.surplus = SampleBatch(**state["surplus"])
        self.driver.env.single_action_space.np_random.bit_generator.state = state["action_space_rng"]
        set_generator_states(self.policy, state["policy_rngs"])

    def set_weights(self, weights: tuple[int, list] | None) -> None:
        if weights is None or weights[0] == self.version:
            return
        from lfo_ray.placement import get_put

        self.policy.set_weights(get_put(weights[1][0]))
        self.version = weights[0]

    def sample(self, num_steps: int, weights: tuple[int, list] | None = None) -> tuple[SampleBatch, RolloutStats]:
        """At least `num_steps` valid transitions (whole vector steps), and the episodes that ended."""
        from lfo_ray.batch import SampleBatch

        self.set_weights(weights)
        batches, returns, steps = [], [], 0
        while steps < num_steps:
            batch, _, ended_returns = self.step()
            batches.append(batch)
            if len(ended_returns):
                returns.extend(ended_returns.tolist())
            steps += self.driver.num_envs if batch.valid is self.driver.all_valid else int(batch.valid.sum())
        # One concatenation and one mask per field for the whole call, not per vector step.
        valid = np.concatenate([b.valid for b in batches])
        keep = slice(None) if valid.all() else valid
        out = SampleBatch(*(np.concatenate([getattr(b, name) for b in batches])[keep]
                            for name in ("obs", "actions", "rewards", "next_obs", "terminated", "truncated")))
        return out, RolloutStats(steps, tuple(returns))

    def sample_into(self, replay, num_steps: int, weights: tuple[int, list] | None = None) -> RolloutStats:
        """Samples and pushes the whole batch to the replay in one call."""
        from lfo_ray.placement import resolve

        batch, stats = self.sample(num_steps, weights)
        resolve(replay.call("add", batch))
        return stats

    def sample_chunk(self, replay, num_steps: int, weights: tuple[int, list] | None = None,
                     key: Any = None) -> RolloutStats:
        """Exactly `num_steps` transitions into the replay (see `surplus`), added under `key`.

        The add is waited for before returning: a chunk the driver has counted is in the replay,
        even if this worker's node is lost right after (the call is then retried elsewhere, and
        the key makes a retried add of a delivered chunk a no-op).
        """
        from lfo_ray.batch import SampleBatch
        from lfo_ray.placement import resolve

        replay = self.replay_handle(replay)
        have = 0 if self.surplus is None else len(self.surplus)
        returns: tuple[float, ...] = ()
        parts = [] if self.surplus is None else [self.surplus]
        if have < num_steps:
            batch, stats = self.sample(num_steps - have, weights)
            parts.append(batch)
            returns = stats.episode_returns
        batch = SampleBatch.concat(parts)
        self.surplus = batch.take(slice(num_steps, None)) if len(batch) > num_steps else None
        resolve(replay.call("add", batch.take(slice(0, num_steps)) if self.surplus is not None else batch, key))
        return RolloutStats(num_steps, returns)

    def replay_handle(self, replay: Any) -> Any:
        """A replay handle, or [ref] of one put in the object store: such a handle is deserialised
        once per worker instead of once per call (registering an actor handle is not free)."""
        if not isinstance(replay, list):
            return replay
        from lfo_ray.placement import get_put

        cache = self.__dict__.setdefault("_replays", {})
        if replay[0] not in cache:
            cache[replay[0]] = get_put(replay[0])
        return cache[replay[0]]

    def node_id(self) -> str | None:
        """The Ray node this worker runs on (None in-process)."""
        import ray

        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None

    def evaluate(self, episodes: int, weights: tuple[int, list] | None = None, seed: int = 0) -> list[float]:
        """Returns of `episodes` fresh episodes on this worker's env kind (separate from sampling)."""
        self.set_weights(weights)
        self.actions = None
        return evaluate_policy(self.policy, self.driver.env, episodes, seed).tolist()
