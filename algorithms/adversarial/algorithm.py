"""Adversarial imitation with a PPO learner; GAIL and GAIfO differ only in the discriminator input.

    D = Discriminator over (s, a) [GAIL] or (s, s', s' - s) [GAIfO]
    repeat:
        roll out pi for num_steps in num_envs environments
        train D to tell demonstration transitions (1) from the rollout's (0)
        reward each rollout transition by D (config.reward), GAE, PPO epochs on pi and V
    deploy pi

The true environment reward is never used for learning; it only fills the learning curve.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import torch
from torch.distributions import Categorical

from lfo_ray.algorithms.adversarial.config import AdversarialConfig
from lfo_ray.algorithms.adversarial.losses import (
    discriminator_loss,
    generalized_advantages,
    imitation_reward,
    ppo_loss,
)
from lfo_ray.algorithms.adversarial.networks import Discriminator, difference, difference_space
from lfo_ray.algorithms.bc.networks import (
    CategoricalPolicyNet,
    as_input,
    mlp,
    mlp_policy,
)
from lfo_ray.algorithms.tabular.model import resolve_device
from lfo_ray.data.parquet import atomic_write
from lfo_ray.experiment import RunContext, TrainOutput
from lfo_ray.rollout import VectorDriver

DISCRIMINATOR_WEIGHTS = "discriminator.pt"


def discriminator_spaces(config: AdversarialConfig, obs_space: gym.Space,
                         action_space: gym.Space) -> list[gym.Space]:
    """The spaces of the discriminator's input components: (s, a), (s, s') or (s, s', s' - s)."""
    if config.discriminator_input == "state_action":
        return [obs_space, action_space]
    spaces = [obs_space, obs_space]
    if config.next_state_difference:
        spaces.append(difference_space(obs_space))
    return spaces


def discriminator_inputs(config: AdversarialConfig, obs: torch.Tensor, actions: torch.Tensor | None,
                         next_obs: torch.Tensor | None, obs_space: gym.Space) -> tuple[torch.Tensor, ...]:
    """The components `discriminator_spaces` describes, for a batch of transitions (GAIL reads
    no next observations, GAIfO no actions)."""
    if config.discriminator_input == "state_action":
        return obs, actions
    if config.next_state_difference:
        return obs, next_obs, difference(obs, next_obs, obs_space)
    return obs, next_obs


def expert_inputs(config: AdversarialConfig, ctx: RunContext, obs_space: gym.Space, action_space: gym.Space,
                  device: torch.device) -> tuple[torch.Tensor, ...]:
    """The demonstrations' discriminator inputs; GAIfO never reads their actions."""
    transitions = ctx.demos.transitions()
    obs = as_input(transitions.obs, obs_space, device)
    if config.discriminator_input == "state_action":
        if transitions.actions is None:
            raise ValueError("discriminator_input='state_action' needs demonstrations with actions; "
                             "use 'state_next_state' (GAIfO) for observation-only data")
        return discriminator_inputs(config, obs, as_input(transitions.actions, action_space, device), None, obs_space)
    return discriminator_inputs(config, obs, None, as_input(transitions.next_obs, obs_space, device), obs_space)


def train(config: AdversarialConfig, ctx: RunContext) -> TrainOutput:
    device = resolve_device(config.device)
    env = ctx.make_env(config.num_envs)
    if not isinstance(env.single_action_space, gym.spaces.Discrete):
        raise ValueError(f"{ctx.env_id}: only Discrete action spaces are supported")
    obs_space, num_actions = env.single_observation_space, int(env.single_action_space.n)
    torch.manual_seed(ctx.seed)
    policy = CategoricalPolicyNet(obs_space, num_actions, config.policy_hidden).to(device)
    value = mlp(obs_space, config.value_hidden, 1).to(device)
    action_space = env.single_action_space
    discriminator = Discriminator(discriminator_spaces(config, obs_space, action_space),
                                  config.disc_hidden).to(device)
    optimizer = torch.optim.Adam([{"params": policy.parameters(), "lr": config.policy_lr},
                                  {"params": value.parameters(), "lr": config.value_lr}])
    disc_optimizer = torch.optim.Adam(discriminator.parameters(), lr=config.disc_lr)
    expert = expert_inputs(config, ctx, obs_space, action_space, device)
    rng = np.random.default_rng(ctx.seed)
    driver = VectorDriver(env, seed=ctx.seed)
    steps, envs = config.num_steps, config.num_envs
    env_steps = 0
    curve: list[tuple[int, float]] = []
    start = time.perf_counter()

    iterations = config.total_env_steps // (steps * envs)
    for iteration in range(iterations):
        if config.anneal_lr:
            fraction = 1.0 - iteration / iterations
            optimizer.param_groups[0]["lr"] = fraction * config.policy_lr
            optimizer.param_groups[1]["lr"] = fraction * config.value_lr
            disc_optimizer.param_groups[0]["lr"] = fraction * config.disc_lr
        obs_buf, action_buf, next_obs_buf = [], [], []
        log_prob_buf = torch.zeros(steps, envs, device=device)
        value_buf = torch.zeros(steps, envs, device=device)
        terminated_buf = torch.zeros(steps, envs, dtype=torch.bool, device=device)
        ended_buf = torch.zeros(steps, envs, dtype=torch.bool, device=device)
        valid_buf = torch.zeros(steps, envs, dtype=torch.bool, device=device)
        episode_returns: list[float] = []
        for t in range(steps):
            obs = as_input(driver.obs, obs_space, device)
            with torch.no_grad():
                dist = Categorical(logits=policy(obs))
                actions = dist.sample()
                log_prob_buf[t] = dist.log_prob(actions)
                value_buf[t] = value(obs).squeeze(-1)
            batch, _, returns = driver.step(actions.cpu().numpy())
            obs_buf.append(obs)
            action_buf.append(actions)
            next_obs_buf.append(as_input(batch.next_obs, obs_space, device))
            terminated_buf[t] = torch.as_tensor(batch.terminated, device=device)
            ended_buf[t] = torch.as_tensor(batch.terminated | batch.truncated, device=device)
            valid_buf[t] = torch.as_tensor(batch.valid, device=device)
            episode_returns.extend(returns.tolist())
        env_steps += int(valid_buf.sum())
        obs_all, actions_all, next_obs_all = torch.stack(obs_buf), torch.stack(action_buf), torch.stack(next_obs_buf)
        valid = valid_buf.reshape(-1)
        learner = discriminator_inputs(config, obs_all.flatten(0, 1), actions_all.flatten(0, 1),
                                       next_obs_all.flatten(0, 1), obs_space)
        learner_valid = tuple(component[valid] for component in learner)

        for _ in range(config.disc_steps):
            expert_index = torch.as_tensor(rng.integers(len(expert[0]), size=config.disc_batch_size), device=device)
            learner_index = torch.as_tensor(rng.integers(len(learner_valid[0]), size=config.disc_batch_size),
                                            device=device)
            expert_logits = discriminator(*(component[expert_index] for component in expert))
            learner_logits = discriminator(*(component[learner_index] for component in learner_valid))
            disc_loss = discriminator_loss(expert_logits, learner_logits)
            disc_optimizer.zero_grad()
            disc_loss.backward()
            disc_optimizer.step()

        with torch.no_grad():
            logits = discriminator(*learner)
            rewards = imitation_reward(logits, config.reward).reshape(steps, envs)
            next_values = value(next_obs_all.reshape(steps * envs, *next_obs_all.shape[2:])).reshape(steps, envs)
            advantages, targets = generalized_advantages(rewards, value_buf, next_values, terminated_buf, ended_buf,
                                                         config.gamma, config.gae_lambda)

        flat_obs = obs_all.reshape(steps * envs, *obs_all.shape[2:])[valid]
        flat_actions = actions_all.reshape(-1)[valid]
        flat_log_probs = log_prob_buf.reshape(-1)[valid]
        flat_advantages = advantages.reshape(-1)[valid]
        flat_targets = targets.reshape(-1)[valid]
        minibatch = max(1, len(flat_obs) // config.num_minibatches)
        for _ in range(config.update_epochs):
            order = torch.as_tensor(rng.permutation(len(flat_obs)), device=device)
            for begin in range(0, len(flat_obs), minibatch):
                index = order[begin:begin + minibatch]
                dist = Categorical(logits=policy(flat_obs[index]))
                loss, stats = ppo_loss(dist.log_prob(flat_actions[index]), flat_log_probs[index],
                                       flat_advantages[index], value(flat_obs[index]).squeeze(-1),
                                       flat_targets[index], dist.entropy(), config.clip_coef, config.vf_coef,
                                       config.ent_coef)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_([*policy.parameters(), *value.parameters()], config.max_grad_norm)
                optimizer.step()

        writer = ctx.writer
        if episode_returns:
            curve.append((env_steps, float(np.mean(episode_returns))))
            writer.add_scalar("charts/episodic_return", curve[-1][1], env_steps)
        writer.add_scalar("charts/SPS", env_steps / (time.perf_counter() - start), env_steps)
        writer.add_scalar("charts/imitation_reward", rewards.mean().item(), env_steps)
        writer.add_scalar("losses/discriminator_loss", disc_loss.item() if config.disc_steps else 0.0, env_steps)
        writer.add_scalar("disc/expert_prob", torch.sigmoid(expert_logits).mean().item() if config.disc_steps else 0.0,
                          env_steps)
        writer.add_scalar("disc/learner_prob", torch.sigmoid(learner_logits).mean().item() if config.disc_steps else 0.0,
                          env_steps)
        for name, number in stats.items():
            writer.add_scalar(f"losses/{name}", number, env_steps)

    env.close()
    deployed = mlp_policy(policy, greedy=config.greedy, seed=ctx.seed)
    deployed.save(ctx.checkpoint_dir)
    disc_state = {k: v.detach().cpu() for k, v in discriminator.state_dict().items()}
    atomic_write(ctx.checkpoint_dir / DISCRIMINATOR_WEIGHTS, lambda tmp: torch.save(disc_state, tmp))
    metrics = {"final_train_return": curve[-1][1] if curve else float("nan")}
    return TrainOutput(policy=deployed, env_steps=env_steps, curve=curve, metrics=metrics)
