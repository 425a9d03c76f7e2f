"""BC, BCO(alpha) and DAgger on Box actions: InvertedPendulum-v5 from a hand-written linear
controller's perturbed demonstrations (the fixture of the tests, tests/algorithms/pendulum_helpers).

    python experiments/box_pendulum.py [--seeds 3] [--out runs/box_pendulum]

Prints, per method and seed, the final greedy/deployed return over 10 episodes against the
demonstrations' return, and the training time. BC and BCO run with their defaults; DAgger labels
with the controller (registered with lfo_ray.envs.experts.register_expert) at a small budget, its
defaults evaluating 100 full episodes per round.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lfo_ray.envs.experts import register_expert  # noqa: E402
from lfo_ray.experiment import train_run  # noqa: E402
from tests.algorithms.pendulum_helpers import PENDULUM, balancing_controller, write_demos  # noqa: E402

RUNS = {
    "bc": {},
    "bco": {},
    "dagger": {"train_steps": 300, "rounds": 2, "num_envs": 4, "steps_per_round": 50, "round_train_steps": 200,
               "curve_episodes": 2, "greedy": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/box_pendulum"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    controller = balancing_controller()
    register_expert(PENDULUM, controller)
    demos = write_demos(args.out / "demos.parquet", controller)
    print(f"controller gain {controller.gain.tolist()}")
    for algo, overrides in RUNS.items():
        returns = []
        for seed in range(args.seeds):
            out = args.out / f"{algo}-seed{seed}"
            shutil.rmtree(out, ignore_errors=True)
            result = train_run(algo, PENDULUM, demos, seed, out, overrides, eval_episodes=10, placement="local",
                               progress=False)
            returns.append(result["return_mean"])
            print(f"{algo:6s} seed {seed}: return {result['return_mean']:7.1f} "
                  f"(demos {result['demo_return_mean']:.1f}), env steps {result['env_steps']:,}, "
                  f"train {result['train_s']:.0f} s", flush=True)
        print(f"{algo:6s} mean {np.mean(returns):.1f} over {args.seeds} seeds, min {np.min(returns):.1f}")


if __name__ == "__main__":
    main()
