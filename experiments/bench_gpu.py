"""Learner update rates on CUDA against CPU: one prepared script for a machine with a GPU.

    python experiments/bench_gpu.py [--seconds 5] [--large-batch 4096] [--cpu-threads N]

Measures gradient steps/s, each learner built by its algorithm's own code and fed as in a run:
ILPO's latent policy network (LPN) on the shipped CartPole demonstrations; the GAIfO
discriminator and the IMRL reward model (algorithms/learned_reward RewardLearner.train, agent
minibatches pulled from an in-process replay); BCO's inverse-dynamics model (fit_inverse); the SAC
learner's update (SACLearner.train, Hopper-sized spaces); and the runtime's generic
TorchLearner.update_from (an MLP policy, cross-entropy). Each at the learner's
default batch size and at --large-batch, where a GPU has work enough to pay off. Prints one table
with the CUDA/CPU ratio; without CUDA it says so and prints the CPU column only. A learner that
fails on a device gets its error in the cell and the others still run.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import gymnasium as gym
import numpy as np
import torch

from lfo_ray.batch import SampleBatch
from lfo_ray.placement import LocalHandle
from lfo_ray.replay import ReplayBuffer

DEMOS = Path(__file__).resolve().parents[1] / "lfo_ray" / "demos"
ENV = "CartPole-v1"


def timed(step: Callable[[], None], seconds: float, device: str) -> float:
    """Calls/s of `step` over `seconds` after a warm-up (CUDA kernels are asynchronous: synchronised)."""
    for _ in range(3):
        step()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        calls += 1
    sync()
    return calls / (time.perf_counter() - start)


def agent_replay(n: int = 50_000) -> LocalHandle:
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(n, 4)).astype(np.float32)
    replay = ReplayBuffer(n)
    replay.add(SampleBatch(obs, rng.integers(2, size=n), np.zeros(n, np.float32),
                           obs + 0.01 * rng.normal(size=(n, 4)).astype(np.float32),
                           np.zeros(n, bool), np.zeros(n, bool)))
    return LocalHandle(replay)


def lpn(device: str, batch: int | None, steps: int = 20) -> Callable[[], None]:
    from lfo_ray.algorithms.ilpo.algorithm import ILPOLearner
    from lfo_ray.algorithms.ilpo.config import ILPOConfig

    config = ILPOConfig(device=device)
    if batch is not None:
        config = replace(config, lpn_batch_size=batch)
    learner = ILPOLearner(config, gym.make(ENV).observation_space, 2, 2, str(DEMOS / f"{ENV}.parquet"), 0)
    return lambda: learner.train_lpn(steps)


def reward_model(algo: str) -> Callable:
    def build(device: str, batch: int | None, steps: int = 20) -> Callable[[], None]:
        from lfo_ray.algorithms.learned_reward.config import GAIfOConfig, IMRLConfig
        from lfo_ray.algorithms.learned_reward.learners import RewardLearner

        threads = torch.get_num_threads()
        config = {"gaifo": GAIfOConfig, "imrl": IMRLConfig}[algo](device=device)
        if batch is not None:
            config = replace(config, reward_batch_size=batch)
        env = gym.make(ENV)
        learner = RewardLearner(config, ENV, env.observation_space, env.action_space, DEMOS / f"{ENV}.parquet", 0)
        torch.set_num_threads(threads)   # the learner pins one thread for its actor; the bench sets them
        replay = agent_replay()
        if learner.model.learns_from_agent:
            return lambda: learner.train(replay, steps)
        return lambda: learner.pretrain(steps)
    return build


def bco_inverse(device: str, batch: int | None, steps: int = 20) -> Callable[[], None]:
    from lfo_ray.algorithms.bco.algorithm import BCOLearner
    from lfo_ray.algorithms.bco.config import BCOConfig

    config = BCOConfig(device=device)
    demos = np.random.default_rng(1).normal(size=(1000, 4)).astype(np.float32)
    learner = BCOLearner(config, gym.make(ENV).observation_space, 2, demos, demos, 0)
    replay = agent_replay()
    size = batch or config.batch_size
    return lambda: learner.fit_inverse(replay, steps, size)


def sac(device: str, batch: int | None, steps: int = 20) -> Callable[[], None]:
    """SAC (algorithms/learned_reward/sac.py) with the env's reward, on Hopper-sized spaces (11-dim
    observations, 3-dim actions) and random transitions: its update cost does not depend on the data."""
    from lfo_ray.algorithms.learned_reward.config import GAIfOConfig
    from lfo_ray.algorithms.learned_reward.sac import SACLearner

    config = GAIfOConfig(rl="sac", device=device)
    if batch is not None:
        config = replace(config, sac_batch_size=batch)
    obs_space = gym.spaces.Box(-np.inf, np.inf, (11,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    threads = torch.get_num_threads()
    learner = SACLearner(config, obs_space, action_space, 0)
    torch.set_num_threads(threads)
    rng, n = np.random.default_rng(0), 50_000
    replay = ReplayBuffer(n)
    replay.add(SampleBatch(rng.normal(size=(n, 11)).astype(np.float32),
                           rng.uniform(-1, 1, size=(n, 3)).astype(np.float32), rng.normal(size=n).astype(np.float32),
                           rng.normal(size=(n, 11)).astype(np.float32), np.zeros(n, bool), np.zeros(n, bool)))
    handle = LocalHandle(replay)
    # train() runs utd_ratio updates per new env step: ask for `steps` updates a call.
    return lambda: learner.train(handle, steps / config.utd_ratio)


def generic(device: str, batch: int | None, steps: int = 20) -> Callable[[], None]:
    from lfo_ray.learner import TorchLearner

    class MLPLearner(TorchLearner):
        def __init__(self) -> None:
            super().__init__(device)
            net = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                                      torch.nn.Tanh(), torch.nn.Linear(64, 2)).to(self.device)
            self.modules["policy"] = net
            self.optimizers["policy"] = torch.optim.Adam(net.parameters(), 3e-4)

        def update(self, batch: SampleBatch) -> dict[str, float]:
            loss = torch.nn.functional.cross_entropy(self.modules["policy"](self.tensor(batch.obs)),
                                                     self.tensor(batch.actions, torch.int64))
            self.optimizers["policy"].zero_grad()
            loss.backward()
            self.optimizers["policy"].step()
            return {"loss": loss.item()}

    learner, replay = MLPLearner(), agent_replay()
    return lambda: learner.update_from(replay, steps, batch or 256)


LEARNERS: dict[str, Callable] = {
    "ILPO LPN (batch {b})": lpn,
    "GAIfO discriminator (batch {b})": reward_model("gaifo"),
    "IMRL reward model (batch {b})": reward_model("imrl"),
    "BCO inverse dynamics (batch {b})": bco_inverse,
    "SAC update: twin critics, actor, temperature (batch {b})": sac,
    "TorchLearner.update_from, MLP policy (batch {b})": generic,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--large-batch", type=int, default=4096)
    parser.add_argument("--cpu-threads", type=int, default=os.cpu_count(),
                        help="torch intra-op threads for the CPU column")
    args = parser.parse_args()
    torch.set_num_threads(args.cpu_threads)
    cuda = torch.cuda.is_available()
    devices = ["cpu"] + (["cuda"] if cuda else [])
    where = torch.cuda.get_device_name(0) if cuda else "no GPU: CUDA is not available here, CPU column only"
    rows = []
    for label, build in LEARNERS.items():
        for batch in (None, args.large_batch):
            rates: dict[str, float | str] = {}
            for device in devices:
                try:
                    rates[device] = 20 * timed(build(device, batch), args.seconds, device)  # 20 steps a call
                except Exception as error:  # a learner that fails on a device is a finding, not the end
                    rates[device] = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:80]}"
            name = label.format(b="default" if batch is None else f"{batch:,}")
            cells = [f"{r:,.0f}" if isinstance(r, float) else r for r in (rates["cpu"], rates.get("cuda", "-"))]
            ratio = (f"{rates['cuda'] / rates['cpu']:.1f}x"
                     if all(isinstance(rates.get(d), float) for d in ("cpu", "cuda")) else "-")
            rows.append((name, *cells, ratio))
    print(f"\n{ENV}; torch {torch.__version__}; CPU: {args.cpu_threads} thread(s); GPU: {where}")
    print("| learner | CPU steps/s | CUDA steps/s | CUDA / CPU |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
