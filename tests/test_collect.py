import numpy as np
import pytest

from lfo_ray.collect import CollectSpec, EpisodeCollector, collect_dataset
from lfo_ray.envs import make_vector_env
from lfo_ray.envs.experts import load_expert

GRID = "lfo_ray/GridWorld-v0"


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x.observations, y.observations) and np.array_equal(x.actions, y.actions)
        for x, y in zip(a.episodes, b.episodes)
    )


def test_in_process_collection_is_deterministic_and_complete():
    spec = CollectSpec(GRID, episodes=40, seed=3)
    first, stats = collect_dataset(spec, workers=2, use_ray=False)
    second, _ = collect_dataset(spec, workers=2, use_ray=False)
    assert len(first) == 40 and _same(first, second)
    assert first.metadata.env_id == GRID and first.metadata.source == "expert:value-iteration"
    assert first.metadata.return_mean == 10.0
    assert stats["transitions"] == first.num_transitions
    assert all(e.terminated for e in first.episodes)
    other, _ = collect_dataset(CollectSpec(GRID, episodes=40, seed=4), workers=2, use_ray=False)
    assert not _same(first, other)


def test_noise_replaces_about_that_fraction_of_expert_actions():
    expert = load_expert(GRID)
    collector = EpisodeCollector(make_vector_env(GRID, 16), expert, seed=0, noise=0.25)
    episodes = collector.collect(200)
    obs = np.concatenate([e.observations[:-1] for e in episodes])
    actions = np.concatenate([e.actions for e in episodes])
    disagree = np.mean(actions != expert.act(obs))
    assert 0.25 * 0.75 - 0.03 < disagree < 0.25 * 0.75 + 0.03  # a random action matches 1/4 of the time


def test_spec_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown environment"):
        CollectSpec("NoSuchEnv-v9", episodes=1)
    with pytest.raises(ValueError, match="noise"):
        CollectSpec(GRID, episodes=1, noise=1.5)
    with pytest.raises(ValueError, match="episodes"):
        CollectSpec(GRID, episodes=0)


@pytest.mark.ray
def test_parallel_collection_on_ray_matches_in_process(ray_session):
    spec = CollectSpec(GRID, episodes=60, seed=5)
    on_ray, stats = collect_dataset(spec, workers=2, use_ray=True)
    in_process, _ = collect_dataset(spec, workers=2, use_ray=False)
    assert len(on_ray) == 60 and _same(on_ray, in_process)
    assert stats["transitions_per_s"] > 0
