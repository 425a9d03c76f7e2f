"""DAgger: behavioural cloning on a dataset that grows with the states the learner visits.

    D = demonstrations; pi = BC(D)
    for i in 1..rounds:
        roll out "expert with probability beta**i, else pi" for steps_per_round steps
        D += (every visited state, the expert's action there)
        pi = pi trained further on D

The expert is named by the config's `expert` and resolved as `lfo collect --policy` resolves a
policy (lfo_ray.collect.make_policy): "expert" is `lfo_ray.envs.experts.load_expert(env_id,
**env_kwargs)` (on GridWorld: value iteration on the run's own dynamics; in Python, any policy
registered with `lfo_ray.envs.experts.register_expert`), else a run directory of `lfo train` or a
'module:callable'. Box actions: the expert's actions are labels in env units; the learner is BC's
Gaussian on the normalised actions.
"""

from __future__ import annotations


import gymnasium as gym
import numpy as np

from lfo_ray.algorithms.bc.algorithm import BCLearner, action_requirement, resolved_fields, spaces_of
from lfo_ray.algorithms.dagger.config import DAggerConfig
from lfo_ray.collect import EXPERT, make_policy
from lfo_ray.distributions import ActionBounds
from lfo_ray.envs.experts import load_expert
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput
from lfo_ray.policy import Policy
from lfo_ray.rollout import VectorDriver, evaluate_policy
from lfo_ray.seeding import DAGGER_EVAL, DAGGER_POLICY, derive_seed


def collect_labelled(driver: VectorDriver, expert, learner: Policy, beta: float, steps: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Steps the mixture policy; returns the visited observations, the expert's labels, env steps."""
    visited, labels = [], []
    env_steps = 0
    for _ in range(steps):
        obs = driver.obs
        expert_actions = np.asarray(expert.act(obs))
        use_expert = rng.random(len(expert_actions)) < beta
        # One draw per sub-env, broadcast over a Box action's dimensions.
        use_expert = use_expert.reshape(-1, *([1] * (expert_actions.ndim - 1)))
        actions = np.where(use_expert, expert_actions, learner.act(obs))
        batch, _, _ = driver.step(actions)
        visited.append(np.asarray(batch.obs)[batch.valid])
        labels.append(expert_actions[batch.valid])
        env_steps += int(batch.valid.sum())
    return np.concatenate(visited), np.concatenate(labels), env_steps


def disagreement(actions: np.ndarray, labels: np.ndarray, action_space: gym.Space) -> float:
    """How far the learner's greedy actions are from the expert's: the fraction of differing
    Discrete actions, or the RMS difference of Box actions in normalised units."""
    if isinstance(action_space, gym.spaces.Discrete):
        return float((actions != labels).mean())
    bounds = ActionBounds.of(action_space)
    difference = np.clip(bounds.from_env(actions), -1, 1) - np.clip(bounds.from_env(labels), -1, 1)
    return float(np.sqrt(np.mean(difference ** 2)))


def expert_policy(name: str, ctx: RunContext, action_space: gym.Space):
    """The labelling policy named by the config's `expert` (see the module doc)."""
    if name != EXPERT:
        return make_policy(name, ctx.env_id, action_space, dict(ctx.env_kwargs), ctx.seed)
    try:
        return load_expert(ctx.env_id, **ctx.env_kwargs)
    except ValueError as error:
        raise ValueError(f"dagger: {error}; name another with --set expert=RUN_DIR or "
                         "expert=module:callable, or register one in Python with "
                         "lfo_ray.envs.experts.register_expert") from None


def train(config: DAggerConfig, ctx: RunContext) -> TrainOutput:
    observation_space, action_space = spaces_of(ctx)
    expert = expert_policy(config.expert, ctx, action_space)
    demos = ctx.demos.transitions()
    dataset_obs, dataset_actions = [demos.obs], [demos.actions]
    learner = BCLearner(config, observation_space, action_space, ctx.seed)
    config = learner.config
    learner.train(demos.obs, demos.actions, config.train_steps, ctx.writer)

    rng = np.random.default_rng(ctx.seed)
    driver = VectorDriver(ctx.make_env(config.num_envs), seed=ctx.seed)
    curve_env = ctx.make_env(min(config.curve_episodes, 32))
    env_steps = 0
    curve: list[tuple[int, float]] = []
    metrics: dict[str, float] = {}
    for round_index in range(1, config.rounds + 1):
        beta = config.beta ** round_index
        obs, labels, steps = collect_labelled(driver, expert, learner.policy(seed=derive_seed(ctx.seed, DAGGER_POLICY, round_index)),
                                              beta, config.steps_per_round, rng)
        env_steps += steps
        dataset_obs.append(obs)
        dataset_actions.append(labels)
        metrics = learner.train(np.concatenate(dataset_obs), np.concatenate(dataset_actions),
                                config.round_train_steps, ctx.writer)
        returns = evaluate_policy(learner.policy(seed=ctx.seed), curve_env, config.curve_episodes,
                                  seed=derive_seed(ctx.seed, DAGGER_EVAL, round_index))
        curve.append((env_steps, float(returns.mean())))
        ctx.report(env_steps, curve[-1][1])
        ctx.writer.add_scalar("charts/beta", beta, env_steps)
        ctx.writer.add_scalar("charts/dataset_size", sum(len(o) for o in dataset_obs), env_steps)
        greedy = learner.policy(seed=0).predict(obs, deterministic=True)[0]
        ctx.writer.add_scalar("charts/expert_disagreement", disagreement(greedy, labels, action_space), env_steps)

    policy = learner.policy(seed=ctx.seed)
    policy.save(ctx.checkpoint_dir)
    metrics = {"final_" + k: v for k, v in metrics.items()}
    metrics["dataset_size"] = int(sum(len(o) for o in dataset_obs))
    metrics.update(resolved_fields(config))
    return TrainOutput(policy=policy, env_steps=env_steps, curve=curve, metrics=metrics)


ALGORITHM = AlgorithmSpec(
    name="dagger",
    supports=action_requirement("dagger"),
    config_cls=DAggerConfig,
    train=train,
    observation_only=False,
    description="DAgger: behavioural cloning on states the learner visits, labelled by the expert.",
    placements=("local",),
    resumable=False,
)
