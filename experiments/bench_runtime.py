"""Runtime throughput on this machine.

    python experiments/bench_runtime.py [--env CartPole-v1] [--seconds 8] [--chunk 16384]

Prints, in one table (every ratio is to the raw rate measured in the same run, before and after
the Ray rows, because other load on the machine moves every figure): the raw step rate of the
vectorised envs driven by an MLP policy in one process (no Ray, no replay); env steps/s pushed
into the replay by one in-process worker and, through lfo_ray.sampling.AsyncSampler, by 1 and 2
Ray rollout actors into one replay actor and by 2 actors into 2 replay shards; one replay actor's
ingest (batched adds of one chunk, 4 in flight) and sampling rate (pulls of 100 x 256),
and both with 2 shards; learner updates/s (MLP, batch 256) pulling minibatches from the replay,
in-process and as a Ray actor. GPU figures: experiments/bench_gpu.py.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from lfo_ray.batch import SampleBatch
from lfo_ray.envs import make_vector_env
from lfo_ray.learner import TorchLearner, load_numpy_state, to_numpy_state
from lfo_ray.placement import LocalHandle, Placement, learner_gpus, resolve
from lfo_ray.replay import ReplayBuffer, make_replay
from lfo_ray.rollout import RolloutWorker
from lfo_ray.runner import RolloutGroup
from lfo_ray.sampling import AsyncSampler

CHUNK = 16384
"""Transitions per rollout call (256 vector steps of 64 envs; --chunk). Measured here: 4,096 cost
about 10% more CPU per env step than 16,384 (Ray's per-call cost: an object-store put, the
replay's fetch, the reply)."""


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


def raw_rate(env_id: str, num_envs: int, seconds: float) -> tuple[float, float]:
    """(env steps per wall second, per CPU second of this process).

    Counted as every other row counts them, in transitions: a sub-env's step right after its
    episode ended is an autoreset in next-step mode (CartPole's), which yields no transition (~5% of
    the calls with the untrained policy's ~20-step episodes)."""
    env = make_vector_env(env_id, num_envs)
    actor = MLPActor(env.single_observation_space, env.single_action_space)
    next_step = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP) == AutoresetMode.NEXT_STEP
    obs, _ = env.reset(seed=0)
    resetting = np.zeros(num_envs, dtype=bool)
    steps, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        obs, _, terminated, truncated, _ = env.step(actor.act(obs))
        steps += num_envs - int(resetting.sum())
        if next_step:
            resetting = terminated | truncated
    return steps / (time.perf_counter() - start), steps / (time.process_time() - cpu)


def cpu_seconds(handles: list) -> float:
    """CPU seconds used so far by the processes of these Ray actors and by this one."""
    import ray

    actors = [h.actor for h in handles]
    return time.process_time() + sum(ray.get([a.__ray_call__.remote(lambda _: time.process_time()) for a in actors]))


def in_process_rate(env_id: str, envs: int, seconds: float) -> tuple[float, float]:
    worker = RolloutWorker(env_id, {}, envs, 0, MLPActor)
    replay = LocalHandle(ReplayBuffer(200_000))
    steps, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        steps += worker.sample_chunk(replay, CHUNK).env_steps
    return steps / (time.perf_counter() - start), steps / (time.process_time() - cpu)


def rollout_rate(placement: Placement, env_id: str, workers: int, envs: int, seconds: float,
                 shards: int = 1) -> tuple[float, float]:
    """Env steps delivered into the replay by asynchronous sampling (chunks of CHUNK, 2 in flight)
    per wall second, and per CPU second of every process involved (workers, replay, driver)."""
    replay = make_replay(placement, 200_000, 0, shards, num_cpus=0.1)
    group = RolloutGroup(placement, env_id, {}, workers, envs, seed=0, policy_factory=MLPActor,
                         num_cpus=0.9)
    probe = make_vector_env(env_id, 1)
    weights = to_numpy_state(mlp(probe.single_observation_space.shape[0], probe.single_action_space.n))
    sampler = AsyncSampler(group, replay, budget=10**12, chunk_steps=CHUNK, in_flight=2)
    sampler.start(weights)
    first = sampler.wait_for(4 * CHUNK * workers).env_steps  # warm-up: actor start, first weights fetch
    processes = group.workers + (replay.shards if shards > 1 else [replay])
    start, cpu = time.perf_counter(), cpu_seconds(processes)
    time.sleep(seconds)
    steps = sampler.poll().env_steps - first
    rate, per_cpu = steps / (time.perf_counter() - start), steps / (cpu_seconds(processes) - cpu)
    sampler.stop()
    group.close()
    return rate, per_cpu


def replay_rates(placement: Placement, obs_dim: int, n_actions: int, shards: int, seconds: float) -> tuple[float, float]:
    """(ingest, sampling) transitions/s of `shards` replay actors fed by this process."""
    rng = np.random.default_rng(0)
    batch = SampleBatch(rng.normal(size=(CHUNK, obs_dim)).astype(np.float32), rng.integers(n_actions, size=CHUNK),
                        np.zeros(CHUNK, np.float32), rng.normal(size=(CHUNK, obs_dim)).astype(np.float32),
                        np.zeros(CHUNK, bool), np.zeros(CHUNK, bool))
    replay = make_replay(placement, 1_000_000, 0, shards, num_cpus=0.1)
    targets = replay.shards if shards > 1 else [replay]
    # The batch is sent with every add (serialised, put in the object store, fetched by the replay),
    # as a rollout actor's chunk is.
    resolve([t.call("add", batch) for t in targets])
    pending, steps, start, k = [], 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        while len(pending) < 4 * len(targets):
            pending.append(targets[k % len(targets)].call("add", batch))
            k += 1
        resolve(pending.pop(0))
        steps += CHUNK
    resolve(pending)
    ingest = (steps + CHUNK * len(pending)) / (time.perf_counter() - start)
    drawn, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        drawn += len(resolve(replay.call("sample", 100 * 256)))
    return ingest, drawn / (time.perf_counter() - start)


def learner_rate(placement: Placement, env_id: str, seconds: float) -> tuple[float, str]:
    probe = make_vector_env(env_id, 1)
    obs_dim, n = probe.single_observation_space.shape[0], probe.single_action_space.n
    replay = placement.place(ReplayBuffer, 100_000, num_cpus=0.1)
    rng = np.random.default_rng(0)
    resolve(replay.call("add", SampleBatch(
        rng.normal(size=(50_000, obs_dim)).astype(np.float32), rng.integers(n, size=50_000),
        np.zeros(50_000, np.float32), rng.normal(size=(50_000, obs_dim)).astype(np.float32),
        np.zeros(50_000, bool), np.zeros(50_000, bool))))
    learner = placement.place(BCLearner, obs_dim, n, num_cpus=1, num_gpus=learner_gpus(placement, "auto"))
    device = resolve(learner.call("device_name"))
    resolve(learner.call("update_from", replay, 10, 256))
    updates, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        resolve(learner.call("update_from", replay, 100, 256))
        updates += 100
    return updates / (time.perf_counter() - start), device


def main() -> None:
    global CHUNK
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--envs-per-worker", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="transitions per rollout call")
    args = parser.parse_args()
    CHUNK = args.chunk
    local, ray_placement = Placement("local"), Placement("ray")
    ray_placement.start()
    torch.set_num_threads(1)
    env, envs, seconds = args.env, args.envs_per_worker, args.seconds
    probe = make_vector_env(env, 1)
    obs_dim, n_actions = probe.single_observation_space.shape[0], probe.single_action_space.n
    # Each rollout row is bracketed by raw measurements (half as long) right before and after it:
    # its wall-clock ratio is to their mean, so load that comes and goes elsewhere on the machine
    # partly cancels. The CPU ratio (env steps per CPU second of all the pipeline's processes, over
    # the raw loop's) is what load does not move: N actors with a core each reach N x that ratio.
    rows = []
    measures = [("rollouts -> replay, in-process, 1 worker", lambda: in_process_rate(env, envs, seconds))]
    for workers, shards in ((1, 1), (2, 1), (2, 2)):
        measures.append((f"rollouts -> replay, Ray, {workers} rollout actor(s), {shards} replay shard(s)",
                         lambda w=workers, n=shards: rollout_rate(ray_placement, env, w, envs, seconds, n)))
    raws = [raw_rate(env, envs, seconds / 2)]
    for name, measure in measures:
        rate, per_cpu = measure()
        raws.append(raw_rate(env, envs, seconds / 2))
        wall, cpu = np.mean([r[0] for r in raws[-2:]]), np.mean([r[1] for r in raws[-2:]])
        rows.append((name, f"{rate:,.0f} env steps/s ({rate / wall:.2f}x raw) | {per_cpu:,.0f} ({per_cpu / cpu:.2f}x raw)"))
    rows.insert(0, ("raw vector env + MLP policy, 1 process, no Ray (each bracketing measurement)",
                    " / ".join(f"{r[0]:,.0f}" for r in raws) + " env steps/s | "
                    + " / ".join(f"{r[1]:,.0f}" for r in raws)))
    for shards in (1, 2):
        ingest, sampling = replay_rates(ray_placement, obs_dim, n_actions, shards, seconds)
        rows.append((f"replay ingest, {shards} shard(s), adds of {CHUNK:,} from the driver", f"{ingest:,.0f} transitions/s | "))
        rows.append((f"replay sampling, {shards} shard(s), pulls of 100 x 256", f"{sampling:,.0f} transitions/s | "))
    for name, placement in (("in-process", local), ("Ray actor", ray_placement)):
        rate, device = learner_rate(placement, env, seconds)
        rows.append((f"learner updates (batch 256), {name}, {device}", f"{rate:,.0f} updates/s | "))
    print(f"\n{env}, {envs} envs per rollout actor, chunks of {CHUNK:,}, torch {torch.__version__}")
    print("| what | rate (wall clock) | per CPU second |\n|---|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate} |")


if __name__ == "__main__":
    main()
