"""DAgger: behavioural cloning on a dataset that grows with the states the learner visits.

    D = demonstrations; pi = BC(D)
    for i in 1..rounds:
        roll out "expert with probability beta**i, else pi" for steps_per_round steps
        D += (every visited state, the expert's action there)
        pi = pi trained further on D

The expert is `lfo_ray.envs.experts.load_expert(env_id, **env_kwargs)` (on GridWorld: value
iteration on the run's own dynamics).
"""

from __future__ import annotations


import numpy as np

from lfo_ray.algorithms.bc.algorithm import BCLearner, spaces_of
from lfo_ray.algorithms.dagger.config import DAggerConfig
from lfo_ray.envs.experts import load_expert
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput, space_requirement
from lfo_ray.policy import Policy
from lfo_ray.rollout import VectorDriver, evaluate_policy


def collect_labelled(driver: VectorDriver, expert, learner: Policy, beta: float, steps: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Steps the mixture policy; returns the visited observations, the expert's labels, env steps."""
    visited, labels = [], []
    env_steps = 0
    for _ in range(steps):
        obs = driver.obs
        expert_actions = np.asarray(expert.act(obs))
        use_expert = rng.random(len(expert_actions)) < beta
        actions = np.where(use_expert, expert_actions, learner.act(obs))
        batch, _, _ = driver.step(actions)
        visited.append(np.asarray(batch.obs)[batch.valid])
        labels.append(expert_actions[batch.valid])
        env_steps += int(batch.valid.sum())
    return np.concatenate(visited), np.concatenate(labels), env_steps


def train(config: DAggerConfig, ctx: RunContext) -> TrainOutput:
    observation_space, num_actions = spaces_of(ctx)
    expert = load_expert(ctx.env_id, **ctx.env_kwargs)
    demos = ctx.demos.transitions()
    dataset_obs, dataset_actions = [demos.obs], [demos.actions]
    learner = BCLearner(config, observation_space, num_actions, ctx.seed)
    learner.train(demos.obs, demos.actions, config.train_steps, ctx.writer)

    rng = np.random.default_rng(ctx.seed)
    driver = VectorDriver(ctx.make_env(config.num_envs), seed=ctx.seed)
    curve_env = ctx.make_env(min(config.curve_episodes, 32))
    env_steps = 0
    curve: list[tuple[int, float]] = []
    metrics: dict[str, float] = {}
    for round_index in range(1, config.rounds + 1):
        beta = config.beta ** round_index
        obs, labels, steps = collect_labelled(driver, expert, learner.policy(seed=ctx.seed + round_index),
                                              beta, config.steps_per_round, rng)
        env_steps += steps
        dataset_obs.append(obs)
        dataset_actions.append(labels)
        metrics = learner.train(np.concatenate(dataset_obs), np.concatenate(dataset_actions),
                                config.round_train_steps, ctx.writer)
        returns = evaluate_policy(learner.policy(seed=ctx.seed), curve_env, config.curve_episodes,
                                  seed=ctx.seed + 1000 * round_index)
        curve.append((env_steps, float(returns.mean())))
        ctx.report(env_steps, curve[-1][1])
        ctx.writer.add_scalar("charts/beta", beta, env_steps)
        ctx.writer.add_scalar("charts/dataset_size", sum(len(o) for o in dataset_obs), env_steps)
        ctx.writer.add_scalar("charts/expert_disagreement",
                              float((learner.policy(seed=0).act(obs) != labels).mean()), env_steps)

    policy = learner.policy(seed=ctx.seed)
    policy.save(ctx.checkpoint_dir)
    metrics = {"final_" + k: v for k, v in metrics.items()}
    metrics["dataset_size"] = int(sum(len(o) for o in dataset_obs))
    return TrainOutput(policy=policy, env_steps=env_steps, curve=curve, metrics=metrics)


ALGORITHM = AlgorithmSpec(
    name="dagger",
    supports=space_requirement("dagger needs a Discrete action space (every shipped env has one)"),
    config_cls=DAggerConfig,
    train=train,
    observation_only=False,
    description="DAgger: behavioural cloning on states the learner visits, labelled by the expert.",
    placements=("local",),
    resumable=False,
)
