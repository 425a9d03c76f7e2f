"""Runtime throughput on this machine.

    python experiments/bench_runtime.py [--env CartPole-v1] [--seconds 10]

Prints, in one table: the raw step rate of the vectorised envs driven by an MLP policy in one
process (no Ray, no replay); env steps/s pushed into the shared replay by 1 and 2 Ray rollout
actors; the same loop in-process; and learner updates/s (MLP, batch 256) pulling minibatches from
the replay, in-process and as a Ray actor; and ILPO's latent policy network (LPN) training steps/s on the shipped CartPole
demonstrations, on CPU and, when this machine has one, on CUDA. With a GPU in the cluster, the
learner actor runs on CUDA.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lfo_ray.batch import SampleBatch
from lfo_ray.envs import make_vector_env
from lfo_ray.learner import TorchLearner, load_numpy_state, to_numpy_state
from lfo_ray.placement import Placement, gpus_available, resolve
from lfo_ray.replay import ReplayBuffer
from lfo_ray.runner import RolloutGroup


def mlp(obs_dim: int, n_actions: int) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(obs_dim, 64), torch.nn.Tanh(),
                               torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, n_actions))


class MLPActor:
    """Sampling policy as rollout workers run it: batched CPU inference."""

    def __init__(self, obs_space, action_space) -> None:
        torch.set_num_threads(1)
        self.net = mlp(obs_space.shape[0], action_space.n)
        self.rng = np.random.default_rng(0)

    def act(self, obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.net(torch.as_tensor(obs, dtype=torch.float32))
        return torch.distributions.Categorical(logits=logits).sample().numpy()

    def set_weights(self, weights) -> None:
        load_numpy_state(self.net, weights)


class BCLearner(TorchLearner):
    def __init__(self, obs_dim: int, n_actions: int) -> None:
        super().__init__()
        self.modules["policy"] = mlp(obs_dim, n_actions).to(self.device)
        self.optimizers["policy"] = torch.optim.Adam(self.modules["policy"].parameters(), 3e-4)

    def update(self, batch: SampleBatch) -> dict[str, float]:
        logits = self.modules["policy"](self.tensor(batch.obs))
        loss = torch.nn.functional.cross_entropy(logits, self.tensor(batch.actions, torch.int64))
        self.optimizers["policy"].zero_grad()
        loss.backward()
        self.optimizers["policy"].step()
        return {"loss": loss.item()}


def raw_rate(env_id: str, num_envs: int, seconds: float) -> float:
    env = make_vector_env(env_id, num_envs)
    actor = MLPActor(env.single_observation_space, env.single_action_space)
    obs, _ = env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        obs, *_ = env.step(actor.act(obs))
        steps += num_envs
    return steps / (time.perf_counter() - start)


def rollout_rate(placement: Placement, env_id: str, workers: int, envs: int, seconds: float) -> float:
    replay = placement.place(ReplayBuffer, 200_000, num_cpus=0.1)
    group = RolloutGroup(placement, env_id, {}, workers, envs, seed=0, policy_factory=MLPActor,
                         num_cpus=0.9)
    probe = make_vector_env(env_id, 1)
    group.publish(to_numpy_state(mlp(probe.single_observation_space.shape[0], probe.single_action_space.n)))
    group.sample_into(replay, 1000)  # warm-up: actor start, first weights fetch
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        steps += group.sample_into(replay, 4096 * workers).env_steps
    rate = steps / (time.perf_counter() - start)
    group.close()
    return rate


def learner_rate(placement: Placement, env_id: str, seconds: float) -> tuple[float, str]:
    probe = make_vector_env(env_id, 1)
    obs_dim, n = probe.single_observation_space.shape[0], probe.single_action_space.n
    replay = placement.place(ReplayBuffer, 100_000, num_cpus=0.1)
    rng = np.random.default_rng(0)
    resolve(replay.call("add", SampleBatch(
        rng.normal(size=(50_000, obs_dim)).astype(np.float32), rng.integers(n, size=50_000),
        np.zeros(50_000, np.float32), rng.normal(size=(50_000, obs_dim)).astype(np.float32),
        np.zeros(50_000, bool), np.zeros(50_000, bool))))
    gpu = 1 if placement.on_ray and gpus_available() >= 1 else 0
    learner = placement.place(BCLearner, obs_dim, n, num_cpus=1, num_gpus=gpu)
    device = resolve(learner.call("device_name"))
    resolve(learner.call("update_from", replay, 10, 256))
    updates, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        resolve(learner.call("update_from", replay, 100, 256))
        updates += 100
    return updates / (time.perf_counter() - start), device


def lpn_rate(device: str, seconds: float) -> float:
    """ILPO LPN gradient steps/s (default config: batch 64, hidden 128) on `device`."""
    from pathlib import Path

    import gymnasium as gym

    from lfo_ray.algorithms.ilpo.algorithm import ILPOLearner
    from lfo_ray.algorithms.ilpo.config import ILPOConfig

    demos = Path(__file__).resolve().parents[1] / "lfo_ray" / "demos" / "CartPole-v1-noise0.25.parquet"
    learner = ILPOLearner(ILPOConfig(), gym.make("CartPole-v1").observation_space, 2, 2, str(demos), 0)
    learner.device = torch.device(device)
    learner.lpn.to(device)
    learner.train_lpn(20)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        learner.train_lpn(50)
        steps += 50
    if device == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--envs-per-worker", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    local, ray_placement = Placement("local"), Placement("ray")
    ray_placement.start()
    rows = [
        ("raw vector env + MLP policy, 1 process, no Ray", f"{raw_rate(args.env, args.envs_per_worker, args.seconds):,.0f} env steps/s"),
        ("rollouts -> replay, in-process, 1 worker", f"{rollout_rate(local, args.env, 1, args.envs_per_worker, args.seconds):,.0f} env steps/s"),
    ]
    for workers in (1, 2):
        rate = rollout_rate(ray_placement, args.env, workers, args.envs_per_worker, args.seconds)
        rows.append((f"rollouts -> replay, Ray, {workers} rollout actor(s)", f"{rate:,.0f} env steps/s"))
    for name, placement in (("in-process", local), ("Ray actor", ray_placement)):
        rate, device = learner_rate(placement, args.env, args.seconds)
        rows.append((f"learner updates (batch 256), {name}, {device}", f"{rate:,.0f} updates/s"))
    torch.set_num_threads(1)
    rows.append(("ILPO LPN training, in-process, cpu (1 thread)", f"{lpn_rate('cpu', args.seconds):,.0f} steps/s"))
    if torch.cuda.is_available():
        rows.append(("ILPO LPN training, in-process, cuda", f"{lpn_rate('cuda', args.seconds):,.0f} steps/s"))
    print(f"\n{args.env}, {args.envs_per_worker} envs per rollout actor, {torch.__version__}")
    print("| what | rate |\n|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate} |")


if __name__ == "__main__":
    main()
