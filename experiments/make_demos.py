"""Regenerates the demonstration sets shipped in lfo_ray/demos/ from the project's experts.

    python experiments/make_demos.py            # all of them
    python experiments/make_demos.py --only CartPole-v1

Each set is collected by the same code as `lfo collect` (in-process, fixed seeds), so the files
are reproducible byte for byte in content.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lfo_ray.collect import CollectSpec, collect_dataset
from lfo_ray.data import write_dataset

DEMOS = Path(__file__).resolve().parents[1] / "lfo_ray" / "demos"

# file stem -> (env id, episodes, noise, env kwargs)
SETS = {
    "CartPole-v1": ("CartPole-v1", 50, 0.0, ()),
    "CartPole-v1-noise0.25": ("CartPole-v1", 50, 0.25, ()),
    "Acrobot-v1": ("Acrobot-v1", 100, 0.0, ()),
    "Acrobot-v1-noise0.25": ("Acrobot-v1", 100, 0.25, ()),
    "MountainCar-v0": ("MountainCar-v0", 100, 0.0, ()),
    "MountainCar-v0-noise0.25": ("MountainCar-v0", 100, 0.25, ()),
    "GridWorld-v0": ("lfo_ray/GridWorld-v0", 1000, 0.0, ()),
    "GridWorld-v0-noisy": ("lfo_ray/GridWorld-v0", 1000, 0.0, (("transition_prob", True),)),
    "PixelGridWorld-v0": ("lfo_ray/PixelGridWorld-v0", 200, 0.0, ()),
    # MuJoCo: ~10 episodes of the SAC experts (greedy), as in GAIfO/OPOLO's few-demonstration setting.
    "InvertedPendulum-v5": ("InvertedPendulum-v5", 10, 0.0, ()),
    "InvertedDoublePendulum-v5": ("InvertedDoublePendulum-v5", 10, 0.0, ()),
    "Hopper-v5": ("Hopper-v5", 10, 0.0, ()),
    "HalfCheetah-v5": ("HalfCheetah-v5", 10, 0.0, ()),
    "Walker2d-v5": ("Walker2d-v5", 10, 0.0, ()),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(SETS))
    parser.add_argument("--out-dir", type=Path, default=DEMOS)
    args = parser.parse_args()
    for stem in args.only or SETS:
        env_id, episodes, noise, env_kwargs = SETS[stem]
        spec = CollectSpec(env_id, episodes, seed=0, noise=noise, envs_per_worker=16,
                           env_kwargs=env_kwargs)
        dataset, stats = collect_dataset(spec, workers=1, use_ray=False)
        path = write_dataset(dataset, args.out_dir / f"{stem}.parquet")
        print(f"{path.name:32s} {len(dataset):5d} episodes {dataset.num_transitions:7d} transitions "
              f"return {dataset.metadata.return_mean:8.2f} ± {dataset.metadata.return_std:6.2f} "
              f"size {path.stat().st_size / 1024:7.1f} KiB")


if __name__ == "__main__":
    main()
