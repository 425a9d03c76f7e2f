"""The peer of bench_gaifo.py: the `imitation` library's GAIL (with actions) on CartPole-v1.

    PEER/bin/python experiments/peer_imitation_gail.py --seed 0 --steps 300000

Runs in an environment of its own, because `imitation` 1.0 pins gymnasium 0.29 and lfo-ray needs
1.2 (one way to make it: `python -m venv PEER && PEER/bin/pip install torch==2.13.0 imitation`);
it imports nothing from lfo_ray. The demonstrations are lfo-ray's shipped CartPole-v1 Parquet file
(read with pyarrow, observations and actions), the settings those of imitation's own GAIL example
(SB3 PPO with batch 64, 5 epochs, lr 4e-4, gamma 0.95; BasicRewardNet with RunningNorm; 1,024
expert rows per round, 8 discriminator updates per round, a 512-row generator buffer) on 8
CartPole-v1 envs in one process. Prints one JSON line: env steps, wall seconds of `train` (reward
and policy learning; set-up excluded), env steps per second, and the deterministic return over
20 episodes.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pyarrow.parquet as pq


def load_trajectories(path: str):
    from imitation.data.types import Trajectory

    table = pq.read_table(path, columns=["episode_id", "obs", "next_obs", "action", "terminated"]).to_pydict()
    episodes = np.asarray(table["episode_id"])
    obs, next_obs = np.asarray(table["obs"], dtype=np.float32), np.asarray(table["next_obs"], dtype=np.float32)
    actions, terminated = np.asarray(table["action"]), np.asarray(table["terminated"])
    trajectories = []
    for episode in np.unique(episodes):
        rows = np.flatnonzero(episodes == episode)
        states = np.concatenate([obs[rows], next_obs[rows[-1:]]])
        trajectories.append(Trajectory(obs=states, acts=actions[rows], infos=None,
                                       terminal=bool(terminated[rows[-1]])))
    return trajectories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--demos", default="lfo_ray/demos/CartPole-v1.parquet")
    args = parser.parse_args()

    import torch
    from imitation.algorithms.adversarial.gail import GAIL
    from imitation.data.wrappers import RolloutInfoWrapper
    from imitation.rewards.reward_nets import BasicRewardNet
    from imitation.util.networks import RunningNorm
    from imitation.util.util import make_vec_env
    from stable_baselines3 import PPO
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.ppo import MlpPolicy

    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    venv = make_vec_env("CartPole-v1", n_envs=8, rng=rng, post_wrappers=[lambda env, _: RolloutInfoWrapper(env)])
    learner = PPO(env=venv, policy=MlpPolicy, batch_size=64, ent_coef=0.0, learning_rate=0.0004, gamma=0.95,
                  n_epochs=5, seed=args.seed)
    reward_net = BasicRewardNet(observation_space=venv.observation_space, action_space=venv.action_space,
                                normalize_input_layer=RunningNorm)
    trainer = GAIL(demonstrations=load_trajectories(args.demos), demo_batch_size=1024, gen_replay_buffer_capacity=512,
                   n_disc_updates_per_round=8, venv=venv, gen_algo=learner, reward_net=reward_net,
                   allow_variable_horizon=True)
    start = time.perf_counter()
    trainer.train(args.steps)
    wall = time.perf_counter() - start
    steps = int(learner.num_timesteps)
    returns, _ = evaluate_policy(learner, venv, n_eval_episodes=20, deterministic=True, return_episode_rewards=True)
    print(json.dumps({"seed": args.seed, "env_steps": steps, "wall_s": round(wall, 2),
                      "steps_per_s": round(steps / wall), "final_eval": float(np.mean(returns))}), flush=True)


if __name__ == "__main__":
    main()
