"""ILPO: Imitating Latent Policies from Observation (Edwards et al., ICML 2019).

    Phase 1, offline (no interactions): on demonstration pairs (s, s'), train the LPN with
        min_z ||s + G(E(s), z) - s'||^2  +  ||sum_z pi(z|s) stopgrad(s + G(E(s), z)) - s'||^2
    Phase 2, online (`interaction_budget` interactions): repeat in chunks of `chunk_steps`
        act: a = argmax_a ARN(s, argmax_z pi(z|s)), random with probability epsilon
        store (s, a, s') in the replay
        ARN updates: label each sampled step with z_min = argmin_z ||s_hat'_z - s'||, then
                     minimise cross-entropy of a under ARN(s, z_min)
        publish the new weights to the rollout workers; evaluate greedily every `eval_every`

The learner (LPN, ARN, optimisers; on the GPU when the cluster has one) and the replay are placed
with ctx.placement, so the same loop runs in one process or on Ray. With sampling="async" the
workers sample the next chunk while the ARN updates on this one (lfo_ray.sampling.AsyncSampler;
lag <= max_policy_lag weight versions, recorded as charts/policy_lag).

What the demonstrations must hold: the latent actions only line up with real ones where s' given s
is multimodal. A deterministic expert in a deterministic environment gives one s' per s, which a
single latent can fit; the reference therefore recorded its demonstrations with 25% random actions
(train_expert/enjoy_*.py, RANDOM = 0.75), the `-noise0.25` sets here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from lfo_ray.algorithms.ilpo.config import ILPOConfig
from lfo_ray.algorithms.ilpo import diagnostics as diag
from lfo_ray.algorithms.ilpo.losses import arn_loss, closest_latent, lpn_loss
from lfo_ray.algorithms.ilpo.networks import ILPOPolicy, build_networks, is_image, unsupported_spaces
from lfo_ray.batch import SampleBatch
from lfo_ray.checkpoint import load_checkpoint, save_checkpoint
from lfo_ray.data.parquet import iter_transitions
from lfo_ray.demos import DemoSampler
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput, env_spaces
from lfo_ray.learner import TorchLearner
from lfo_ray.metrics import ENV_STEPS, EPISODIC_RETURN, POLICY_LAG, SPS, UPDATES_PER_S, Progress, loss_tag
from lfo_ray.nets import Normalizer, obs_dtype
from lfo_ray.placement import kill_all, learner_gpus, resolve
from lfo_ray.policy import PolicySpec, policy_from_state
from lfo_ray.replay import ReplayBuffer
from lfo_ray.runner import Evaluator, RolloutGroup
from lfo_ray.sampling import AsyncSampler, quiet
from lfo_ray.seeding import ILPO_DIAGNOSTICS, ILPO_EVAL, derive_seed


def cosine_lr(step: int, total: int, start: float, final: float) -> float:
    """Learning rate at `step` of a cosine decay from `start` to `final` over `total` steps."""
    progress = min(step / max(total, 1), 1.0)
    return final + 0.5 * (start - final) * (1.0 + math.cos(math.pi * progress))


class ILPOLearner(TorchLearner):
    """The LPN (trained on demonstrations) and the ARN (trained on remapped replay steps).

    The remapping labels z_min are computed here, on each pulled minibatch, rather than by the
    rollout workers: the LPN is frozen during phase 2, so a step's label never changes, the replay
    stays a plain store of environment steps, and the generator's forward pass (Z predictions
    per state; large for images) runs on the learner's device in big batches.
    """

    def __init__(self, config: ILPOConfig, observation_space: gym.spaces.Box, num_actions: int,
                 n_latent: int, demos_path: str, seed: int) -> None:
        super().__init__(config.device)
        torch.manual_seed(seed)
        self.config = config
        self.observation_space = observation_space
        self.obs_dtype = obs_dtype(observation_space)
        self.lpn, self.arn = build_networks(observation_space, num_actions, n_latent, config.hidden,
                                            config.conv_channels)
        self.lpn.to(self.device)
        self.arn.to(self.device)
        self.modules = {"lpn": self.lpn, "arn": self.arn}
        self.optimizers = {
            "lpn": torch.optim.Adam(self.lpn.parameters(), lr=config.lpn_lr, betas=(config.lpn_beta1, 0.999)),
            "arn": torch.optim.Adam(self.arn.parameters(), lr=config.arn_lr),
        }
        self.remap_in_encoding = (config.remap_space == "encoding"
                                  or (config.remap_space == "auto" and is_image(observation_space)))
        self.demos = DemoSampler(demos_path, seed=seed, max_rows=config.demo_buffer_rows)
        buffer = self.demos.buffer
        if config.standardize and not is_image(observation_space):
            self.lpn.normalizer.fit(self.tensor(buffer.obs))
        # The LPN predicts, and the remapping compares, x' - x standardised by this (the identity
        # without delta_standardize). Refitted from the same demonstrations on resume: not checkpointed.
        self.delta = Normalizer(observation_space.shape, clip=None).to(self.device)
        if config.delta_standardize and not is_image(observation_space):
            self.delta.fit(self._x(buffer.next_obs) - self._x(buffer.obs), min_std=1e-6)
        self.lpn_steps = 0

    def _change(self, x: torch.Tensor, x_next: torch.Tensor) -> torch.Tensor:
        """The observed change in the LPN's prediction space."""
        return self.delta(x_next - x)

    def _x(self, obs: np.ndarray) -> torch.Tensor:
        """Normalised states on the learner's device (images travel as uint8, scaled there)."""
        return self.lpn.normalizer(self.tensor(obs, self.obs_dtype))

    def train_lpn(self, num_steps: int) -> dict[str, float]:
        """`num_steps` LPN gradient steps on demonstration minibatches; mean metrics."""
        totals: dict[str, float] = {}
        for _ in range(num_steps):
            for group in self.optimizers["lpn"].param_groups:
                group["lr"] = cosine_lr(self.lpn_steps, self.config.lpn_steps, self.config.lpn_lr,
                                        self.config.lpn_lr_final)
            for name, value in self._lpn_step().items():
                totals[name] = totals.get(name, 0.0) + value / num_steps
        return totals

    def _lpn_step(self) -> dict[str, float]:
        """One LPN step on a demonstration minibatch."""
        demo = self.demos.sample(self.config.lpn_batch_size)
        obs, next_obs = self._x(demo.obs), self._x(demo.next_obs)
        deltas, latent_logits = self.lpn(obs)
        loss, metrics = lpn_loss(self._change(obs, next_obs), deltas, latent_logits, self.config.policy_term)
        optimizer = self.optimizers["lpn"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self.lpn_steps += 1
        return metrics

    @torch.no_grad()
    def remap_labels(self, obs: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """(B,) z_min: the latent action whose predicted next state is closest to the real one."""
        deltas, _ = self.lpn(obs)
        if not self.remap_in_encoding:
            return closest_latent(deltas, self._change(obs, next_obs))
        predicted = obs[:, None] + self.delta.unnormalize(deltas)
        batch, n_latent = predicted.shape[:2]
        encoded = self.lpn.features(predicted.flatten(0, 1)).reshape(batch, n_latent, -1)
        return closest_latent(encoded, self.lpn.features(next_obs))

    def update(self, batch: SampleBatch) -> dict[str, float]:
        """One ARN step on environment steps (s, a, s') from the replay."""
        obs, next_obs = self._x(batch.obs), self._x(batch.next_obs)
        labels = self.remap_labels(obs, next_obs)
        loss, metrics = arn_loss(self.arn(obs, labels), self.tensor(batch.actions, torch.long))
        optimizer = self.optimizers["arn"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self.updates += 1
        return metrics

    @torch.no_grad()
    def diagnostics(self, episodes: list[np.ndarray], max_rows: int = 4096) -> dict[str, float]:
        """Why the run imitates or not, on up to `max_rows` demonstration transitions and the
        greedy policy's `episodes` (each (T, *obs_shape) raw observations):

        latents_used      latents argmax_z pi(z|s) picks on >= 5% of demonstration states
        latents_fit       latents that are the min term's closest prediction on >= 5%
        remap_maxp        mean max_a ARN(a | s, z*) on demonstration states (1: a peaked map)
        remap_entropy     mean entropy of ARN(. | s, z*) / log A (0: peaked, 1: uniform)
        remap_distinct    mean number of distinct actions argmax_a ARN(a | s, z) over the latents z
        label_purity      how well z_min(s, s') on the demonstrations tells their real actions apart
        remap_accuracy    argmax_a ARN(a | s, z_min(s, s')) == the demonstrated action
        policy_accuracy   the greedy policy's action == the demonstrated action
        ood_share         share of visited states farther from every demonstration state than
                          95% of demonstration states are from other episodes' states
        ood_first_step    median step where an episode first leaves (its length if never)
        ood_dim           the dimension most often furthest out at those first exits
        The action columns need the demonstrations' actions (the file's, else NaN).
        """
        if is_image(self.observation_space):
            max_rows = min(max_rows, 256)   # Z generator passes per state
        demo = next(iter_transitions(self.demos.path, batch_rows=max_rows))
        x, x_next = self._x(demo.obs), self._x(demo.next_obs)
        deltas, logits = self.lpn(x)
        n_latent = logits.shape[1]
        chosen = logits.argmax(-1)
        labels = closest_latent(deltas, self._change(x, x_next))
        probs = self.arn(x, chosen).softmax(-1)
        maxp, entropy = diag.peakedness(probs.cpu().numpy())
        per_latent = torch.stack([self.arn(x, torch.full_like(chosen, z)).argmax(-1) for z in range(n_latent)], 1)
        distinct = np.mean([len(set(row)) for row in per_latent.cpu().numpy().tolist()])
        out = {"latents_used": diag.used(chosen.cpu().numpy(), n_latent),
               "latents_fit": diag.used(labels.cpu().numpy(), n_latent),
               "remap_maxp": maxp, "remap_entropy": entropy, "remap_distinct": float(distinct),
               "label_purity": math.nan, "remap_accuracy": math.nan, "policy_accuracy": math.nan}
        if demo.actions is not None:
            actions = np.asarray(demo.actions).astype(np.int64).reshape(-1)
            remapped = self.arn(x, labels).argmax(-1).cpu().numpy()
            out.update(label_purity=diag.purity(labels.cpu().numpy(), actions),
                       remap_accuracy=float((remapped == actions).mean()),
                       policy_accuracy=float((probs.argmax(-1).cpu().numpy() == actions).mean()))
        if episodes and not is_image(self.observation_space):
            reference = self._x(demo.obs).cpu().numpy()
            ids = np.asarray(demo.episode_ids)
            probe = np.random.default_rng(0).choice(len(reference), min(512, len(reference)), replace=False)
            spread = [diag.nearest_distance(reference[i:i + 1], reference[ids != ids[i]])[0] for i in probe
                      if (ids != ids[i]).any()]
            threshold = float(np.quantile(spread, 0.95)) if spread else math.inf
            visited = [self._x(np.asarray(e)).cpu().numpy() for e in episodes]
            distances = [diag.nearest_distance(v, reference) for v in visited]
            exits = diag.first_exits(distances, threshold)
            dims = [int(np.abs(v[t] - reference[diag.nearest_index(v[t:t + 1], reference)[0]]).argmax())
                    for v, t in zip(visited, exits) if t < len(v)]
            out.update(ood_share=float(np.mean(np.concatenate(distances) > threshold)),
                       ood_first_step=float(np.median(exits)),
                       ood_dim=float(np.bincount(dims).argmax()) if dims else math.nan)
        return out

    def counters(self) -> dict[str, int]:
        return {"lpn_steps": self.lpn_steps, "arn_updates": self.updates}

    def state_dict(self) -> dict[str, Any]:
        return dict(super().state_dict(), lpn_steps=self.lpn_steps, demos=self.demos.state_dict())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.lpn_steps = state["lpn_steps"]
        self.demos.load_state_dict(state["demos"])


def greedy_episodes(policy: Any, ctx: RunContext, episodes: int) -> list[np.ndarray]:
    """The observations of `episodes` greedy episodes (for the diagnostics; not interactions)."""
    env = gym.make(ctx.env_id, **ctx.env_kwargs)
    out = []
    for index in range(episodes):
        obs, _ = env.reset(seed=derive_seed(ctx.seed, ILPO_DIAGNOSTICS, index))
        states, done = [obs], False
        while not done:
            obs, _, terminated, truncated, _ = env.step(int(policy.act(obs)))
            states.append(obs)
            done = terminated or truncated
        out.append(np.asarray(states))
    env.close()
    return out


def train(config: ILPOConfig, ctx: RunContext) -> TrainOutput:
    if ctx.demos_path is None:
        raise ValueError("ILPO streams its demonstrations from a Parquet file: ctx.demos_path is needed")
    observation_space, action_space = env_spaces(ctx.env_id, ctx.env_kwargs)
    num_actions = int(action_space.n)
    n_latent = config.n_latent or num_actions
    spec = PolicySpec("ilpo", observation_space, action_space,
                      {"n_latent": n_latent, "hidden": config.hidden, "conv_channels": config.conv_channels})
    placement = ctx.placement
    placement.start()
    learner = placement.place(ILPOLearner, config, observation_space, num_actions, n_latent,
                              str(ctx.demos_path), ctx.seed, num_cpus=0.5,
                              num_gpus=learner_gpus(placement, config.device))
    replay = placement.place(ReplayBuffer, config.replay_capacity, ctx.seed, num_cpus=0.25)
    # Every actor and thread this run starts ends with it, also when it fails.
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(kill_all, [learner, replay])
        # env_steps: interactions the ARN has been updated on; sampled: interactions in the replay
        # (more with sampling="async", whose workers run a chunk ahead).
        env_steps, sampled, curve, saved = 0, 0, [], None
        group: RolloutGroup | None = None
        sampler: AsyncSampler | None = None
        if ctx.resume:
            saved = load_checkpoint(ctx.checkpoint_dir)
            resolve([learner.call("load_state_dict", saved["learner"]),
                     replay.call("load_state_dict", saved["replay"])])
            env_steps, curve = saved["env_steps"], [tuple(point) for point in saved["curve"]]
            sampled = saved.get("sampled", env_steps)

        def checkpoint() -> None:
            with quiet(sampler, env_steps) as in_replay:
                learner_state, replay_state = resolve([learner.call("state_dict"), replay.call("state_dict")])
                save_checkpoint(ctx.checkpoint_dir, {"learner": learner_state, "replay": replay_state,
                                                     "env_steps": env_steps, "sampled": in_replay, "curve": curve,
                                                     "config": dataclasses.asdict(config),
                                                     "workers": None if group is None else group.state_dict()})

        # Phase 1: the latent policy network, offline on the demonstrations.
        lpn_steps = resolve(learner.call("counters"))["lpn_steps"]
        lpn_metrics: dict[str, float] = {}
        start = time.perf_counter()
        lpn_bar = Progress(config.lpn_steps, "ilpo lpn", unit="update", disable=None if ctx.progress else True)
        lpn_bar.update(min(lpn_steps, config.lpn_steps))
        while lpn_steps < config.lpn_steps:
            num = min(config.lpn_log_every, config.lpn_steps - lpn_steps)
            lpn_metrics = resolve(learner.call("train_lpn", num))
            lpn_steps += num
            lpn_bar.update(num, min=lpn_metrics["lpn_min"])
            for name, value in lpn_metrics.items():
                ctx.writer.add_scalar(loss_tag(name), value, lpn_steps)
            ctx.writer.add_scalar(UPDATES_PER_S, num / max(time.perf_counter() - start, 1e-9), lpn_steps)
            start = time.perf_counter()
            checkpoint()

        lpn_bar.close()

        # Phase 2: the action remapping network, online within the interaction budget.
        act = functools.partial(ILPOPolicy, n_latent=n_latent, hidden=config.hidden,
                                conv_channels=config.conv_channels, epsilon=config.epsilon)
        group = RolloutGroup(placement, ctx.env_id, ctx.env_kwargs, config.num_workers,
                             config.envs_per_worker, ctx.seed, act)
        cleanup.callback(group.close)
        if saved is not None and saved.get("workers") is not None:
            group.load_state_dict(saved["workers"])   # the episodes the checkpointed run was in
        evaluator = Evaluator(placement, ctx.env_id, ctx.env_kwargs, min(config.eval_episodes, 16),
                              derive_seed(ctx.seed, ILPO_EVAL), functools.partial(act, epsilon=0.0))
        cleanup.callback(evaluator.close)
        weights = resolve(learner.call("get_weights"))
        group.publish(weights)

        def evaluate() -> float:
            # Fixed start seeds, so the curve compares policies on the same episodes.
            value = evaluator.evaluate(group.weights, config.eval_episodes, derive_seed(ctx.seed, ILPO_EVAL))
            ctx.report(env_steps, value)
            return value

        if not curve:
            curve.append((0, evaluate()))
        budget = config.interaction_budget
        bar = Progress(budget, "ilpo remap", disable=None if ctx.progress else True)
        bar.update(env_steps)
        arn_metrics: dict[str, float] = {}
        max_lag = 0
        if config.sampling == "async" and env_steps < budget:
            # One lease per worker makes a chunk, so a round of leases is one sync chunk.
            sampler = AsyncSampler(group, replay, budget, config.max_policy_lag,
                                   config.chunk_steps // config.num_workers, env_steps=sampled)
            cleanup.callback(sampler.close)
            sampler.allow(env_steps + config.chunk_steps)
            sampler.start()
        start = time.perf_counter()
        while env_steps < budget:
            target = min(env_steps + config.chunk_steps, budget)
            if sampler is None:
                stats = group.sample_into(replay, target - env_steps)
                new_steps, returns, lags = stats.env_steps, stats.episode_returns, []
            else:
                delivered = sampler.wait_for(target)
                # The workers sample the next chunk with the current weights while the ARN updates.
                sampler.allow(delivered.env_steps + config.chunk_steps)
                new_steps, returns, lags = delivered.env_steps - env_steps, delivered.episode_returns, delivered.lags
                max_lag = delivered.max_lag
            before, env_steps = env_steps, env_steps + new_steps
            num_updates = round(new_steps * config.arn_updates_per_step)
            if num_updates:
                arn_metrics = resolve(learner.call("update_from", replay, num_updates, config.arn_batch_size))
            weights = resolve(learner.call("get_weights"))
            (group if sampler is None else sampler).publish(weights)
            for episode_return in returns:
                ctx.writer.add_scalar(EPISODIC_RETURN, episode_return, env_steps)
            for name, value in arn_metrics.items():
                ctx.writer.add_scalar(loss_tag(name), value, env_steps)
            ctx.writer.add_scalar(ENV_STEPS, env_steps, env_steps)
            ctx.writer.add_scalar(SPS, new_steps / max(time.perf_counter() - start, 1e-9), env_steps)
            if sampler is not None:
                ctx.writer.add_scalar(POLICY_LAG, max(lags, default=0), env_steps)
            if env_steps // config.eval_every > before // config.eval_every or env_steps >= budget:
                curve.append((env_steps, evaluate()))
                checkpoint()
            bar.update(new_steps, eval=curve[-1][1])
            start = time.perf_counter()
        if sampler is not None:
            sampler.stop()
            sampler = None
        bar.close()
        # The driver's copy is only the returned policy: loaded once, from the final weights.
        greedy = policy_from_state(spec, {f"{module}.{name}": value for module, state in weights.items()
                                          for name, value in state.items()})
        greedy.save(ctx.checkpoint_dir)
        arn_updates = resolve(learner.call("counters"))["arn_updates"]
        checkpoint()
        found = resolve(learner.call("diagnostics", greedy_episodes(greedy, ctx, config.diagnose_episodes)))
        metrics = {"n_latent": n_latent, "lpn_steps": lpn_steps, "arn_updates": arn_updates,
                   **({"max_policy_lag": max_lag} if config.sampling == "async" else {}),
                   **{f"final_{name}": value for name, value in {**lpn_metrics, **arn_metrics}.items()},
                   **{f"diag_{name}": value for name, value in found.items()}}
        return TrainOutput(policy=greedy, env_steps=env_steps, curve=curve, metrics=metrics)


ALGORITHM = AlgorithmSpec(
    name="ilpo",
    config_cls=ILPOConfig,
    train=train,
    supports=unsupported_spaces,
    observation_only=True,
    description="Imitating Latent Policies from Observation: a latent policy and forward model "
                "learned offline, latent actions remapped to real ones with a few interactions.",
    extendable=("interaction_budget",),
)
