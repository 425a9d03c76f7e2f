"""The imitation family: a reward model learned from demonstrations, optimised by one PPO loop.

    reward  = RewardLearner(GAIL | GAIfO | IMRL | PMI-IL model, expert data streamed from Parquet)
    policy  = PolicyLearner(PPO actor-critic)
    workers = SegmentGroup(vectorised envs, numpy policy)        replay = ReplayBuffer(agent transitions)
    reward.pretrain()                                   # IMRL / PMI-IL learn from the expert alone
    repeat until total_env_steps (or stop_return):
        segments = workers sample T steps in parallel; their transitions also go to the replay
        rewards  = reward.score(segments)               # reward model as of the previous iteration
        weights  = policy.update(rewards, segments)     # reward normalisation, GAE, PPO epochs
        reward.train(replay, reward_steps)              # concurrent with the PPO update on Ray
        workers get weights with their next call
        every checkpoint_every iterations: learners, replay, counters -> checkpoint/state.pt

`--resume` reloads that checkpoint and goes on to total_env_steps (a larger budget extends a run);
the rollout workers start fresh episodes.

Nothing crosses the driver but weights and metrics: segments and rewards go from actor to actor as
object references. The true environment reward is never used for learning: it fills the learning
curve (returns of finished training episodes) and `stop_return`; the final score is train_run's
evaluation of the deployed policy.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from lfo_ray import metrics as tags
from lfo_ray.algorithms.learned_reward.config import ImitationConfig
from lfo_ray.algorithms.learned_reward.learners import PolicyLearner, RewardLearner
from lfo_ray.algorithms.learned_reward.networks import NumpyPolicy
from lfo_ray.checkpoint import load_checkpoint, save_checkpoint
from lfo_ray.data.parquet import atomic_write
from lfo_ray.distributions import ActionBounds
from lfo_ray.experiment import RunContext, TrainOutput
from lfo_ray.metrics import Progress
from lfo_ray.placement import Done, kill_all, learner_gpus, resolve
from lfo_ray.policy import PolicySpec, policy_from_state
from lfo_ray.replay import ReplayBuffer
from lfo_ray.runner import Evaluator
from lfo_ray.segments import SegmentGroup
from lfo_ray.seeding import LEARNED_REWARD_EVAL, derive_seed

REWARD_FILE = "reward_model.pt"


def supports(observation_space: gym.Space, action_space: gym.Space) -> str | None:
    """None when the family can run on these spaces, else what it needs."""
    if not isinstance(action_space, gym.spaces.Discrete):
        try:
            ActionBounds.of(action_space)
        except ValueError as error:
            return f"needs a Discrete action space or a 1-D Box with finite bounds ({error})"
    if isinstance(observation_space, gym.spaces.Discrete):
        return None
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        return (f"needs vector (1-D Box) or Discrete observations such as CartPole-v1 or lfo_ray/GridWorld-v0 "
                f"(got {observation_space})")
    return None


def env_spaces(ctx: RunContext) -> tuple[gym.Space, gym.Space]:
    env = ctx.make_env(1)
    try:
        obs_space, action_space = env.single_observation_space, env.single_action_space
    finally:
        env.close()
    problem = supports(obs_space, action_space)
    if problem is not None:
        raise ValueError(f"{ctx.env_id}: the imitation family {problem}")
    return obs_space, action_space


def _arg(future: Any) -> Any:
    """A future as an argument to another component: Ray resolves object refs itself, actor to actor."""
    return future.value if isinstance(future, Done) else future


def train(config: ImitationConfig, ctx: RunContext) -> TrainOutput:
    if ctx.demos_path is None:
        raise ValueError("learned-reward algorithms stream the demonstrations: RunContext.demos_path is needed")
    if config.uses_actions and not ctx.demos.has_actions:
        raise ValueError("reward_model='gail' needs demonstrations with actions; use 'gaifo' for observation-only data")
    if config.rl == "sac":
        from lfo_ray.algorithms.learned_reward.sac import train_sac

        return train_sac(config, ctx)
    obs_space, action_space = env_spaces(ctx)
    placement = ctx.placement
    placement.start()
    gpus = learner_gpus(placement, config.device, 0.5)
    reward = placement.place(RewardLearner, config, ctx.env_id, obs_space, action_space, str(ctx.demos_path),
                             ctx.seed, num_cpus=0.25, num_gpus=gpus)
    policy = placement.place(PolicyLearner, config, obs_space, action_space, ctx.seed, num_cpus=0.25, num_gpus=gpus)
    replay = placement.place(ReplayBuffer, config.replay_rows, ctx.seed, num_cpus=0.1)
    group = SegmentGroup(placement, ctx.env_id, ctx.env_kwargs, config.num_workers, config.envs_per_worker,
                         ctx.seed, NumpyPolicy)
    # Fixed episodes, apart from train_run's final ones.
    eval_seed = derive_seed(ctx.seed, LEARNED_REWARD_EVAL)
    evaluator = Evaluator(placement, ctx.env_id, ctx.env_kwargs, min(config.eval_episodes, 32), eval_seed,
                          functools.partial(NumpyPolicy, greedy=True)) if config.eval_every else None
    pending_eval: tuple[int, Any] | None = None
    progress = Progress(config.total_env_steps, config.reward_model, disable=not ctx.progress)
    writer, curve, recent = ctx.writer, [], deque(maxlen=config.stop_window)
    env_steps, iteration, start = 0, 0, time.perf_counter()
    metrics: dict[str, Any] = {}
    pretrain_metrics: dict[str, float] = {}

    def checkpoint() -> dict[str, Any]:
        """Learners, replay and counters to checkpoint/state.pt (written then renamed)."""
        state = {"reward_model": config.reward_model, "env_steps": env_steps, "iteration": iteration,
                 "curve": curve, "recent": list(recent), "pretrain_metrics": pretrain_metrics,
                 "workers": group.state_dict(),
                 **dict(zip(("policy", "reward", "replay"), resolve(
                     [policy.call("state_dict"), reward.call("state_dict"), replay.call("state_dict")])))}
        save_checkpoint(ctx.checkpoint_dir, state)
        return state

    def collect_eval() -> bool:
        """Records the pending evaluation; True when it reached stop_eval_return."""
        nonlocal pending_eval
        if pending_eval is None:
            return False
        at_steps, value = pending_eval[0], Evaluator.result(pending_eval[1])
        pending_eval = None
        curve.append((at_steps, value))
        ctx.report(at_steps, value)
        return config.stop_eval_return is not None and value >= config.stop_eval_return

    try:
        if ctx.resume:
            state = load_checkpoint(ctx.checkpoint_dir)
            if state.get("reward_model") != config.reward_model:
                raise ValueError(f"{ctx.checkpoint_dir}: the checkpoint holds a {state.get('reward_model')!r} "
                                 f"reward model, this run is {config.reward_model!r}")
            resolve([policy.call("load_state_dict", state["policy"]), reward.call("load_state_dict", state["reward"]),
                     replay.call("load_state_dict", state["replay"])])
            group.load_state_dict(state["workers"])      # the episodes the checkpointed run was in
            env_steps, iteration = state["env_steps"], state["iteration"]
            curve, pretrain_metrics = [tuple(p) for p in state["curve"]], state["pretrain_metrics"]
            recent.extend(state["recent"])
        else:
            if config.pretrains:
                pretrain_metrics = resolve(reward.call("pretrain", config.pretrain_steps))
        start_steps = env_steps
        progress.update(env_steps)
        group.publish(resolve(policy.call("acting_weights")))
        pending_reward = None
        while env_steps < config.total_env_steps:
            segments = group.sample_segments(config.rollout_steps, replay)
            rewards = reward.call("score", *map(_arg, segments))
            update = policy.call("update", _arg(rewards), *map(_arg, segments))
            remaining = 1.0 - (env_steps + config.rollout_size) / config.total_env_steps
            reward_train = reward.call("train", replay, config.reward_steps, remaining)
            weights, ppo_metrics = resolve(update)
            group.publish(weights)
            if pending_reward is not None:       # the previous iteration's reward training: done by now
                metrics.update(resolve(pending_reward))
            pending_reward = reward_train
            iteration += 1
            env_steps += ppo_metrics.pop("env_steps")
            returns = ppo_metrics.pop("episode_returns")
            metrics.update(ppo_metrics)
            recent.extend(returns)
            elapsed = time.perf_counter() - start
            if returns:
                writer.add_scalar(tags.EPISODIC_RETURN, float(np.mean(returns)), env_steps)
                if evaluator is None:
                    curve.append((env_steps, float(np.mean(returns))))
                    ctx.report(env_steps, curve[-1][1])
            if collect_eval():
                break
            if evaluator is not None and iteration % config.eval_every == 0:
                pending_eval = (env_steps, evaluator.submit(group.weights, config.eval_episodes, eval_seed))
            writer.add_scalar(tags.SPS, env_steps / elapsed, env_steps)
            for name, value in metrics.items():
                writer.add_scalar(tags.loss_tag(name), value, env_steps)
            progress.update(env_steps - progress.done,
                            **({"return": float(np.mean(recent))} if recent else {}))
            if (config.stop_return is not None and len(recent) == recent.maxlen
                    and np.mean(recent) >= config.stop_return):
                break
            if iteration % config.checkpoint_every == 0:
                metrics.update(resolve(pending_reward))
                pending_reward = None
                checkpoint()
        if pending_reward is not None:
            metrics.update(resolve(pending_reward))
        collect_eval()
        train_s = time.perf_counter() - start
        env_steps_per_s = (env_steps - start_steps) / train_s
        ranking = resolve(reward.call("ranking_metric"))
        state = checkpoint()
        spec = PolicySpec("actor_critic", obs_space, action_space,
                          {"hidden": list(config.policy_hidden)}, greedy=config.greedy)
        deployed = policy_from_state(spec, state["policy"]["modules"]["actor_critic"], seed=ctx.seed)
        deployed.save(ctx.checkpoint_dir)
        reward_modules = state["reward"]["modules"]
        atomic_write(ctx.checkpoint_dir / REWARD_FILE, lambda tmp: torch.save(reward_modules, tmp))
    finally:
        progress.close()
        group.close()
        if evaluator is not None:
            evaluator.close()
        kill_all([reward, policy, replay])
    summary = {"iterations": iteration, "train_loop_s": train_s, "ranking_eq20": ranking,
               "recent_train_return": float(np.mean(recent)) if recent else float("nan"),
               "stopped_early": env_steps < config.total_env_steps, "env_steps_per_s": env_steps_per_s,
               **{f"pretrain_{k}": v for k, v in pretrain_metrics.items()},
               **{f"final_{k}": v for k, v in metrics.items()}}
    return TrainOutput(policy=deployed, env_steps=env_steps, curve=curve, metrics=summary)
