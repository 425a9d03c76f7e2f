import gymnasium as gym
import numpy as np
import pytest

from lfo_ray.collect import CollectSpec, EpisodeCollector, collect_dataset
from lfo_ray.data import read_dataset, write_dataset
from lfo_ray.envs import make_vector_env
from lfo_ray.envs.experts import load_expert
from tests.conftest import DEMOS

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


# ---------------------------------------------------------------------------------------------
# Any env, any policy


PENDULUM = "Pendulum-v1"
USER_MODULE = '''
import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.pendulum import PendulumEnv


class ShortPendulum(PendulumEnv):
    """Defined here, so only a process that imports this module can make it."""


gym.register("{env_id}", entry_point=ShortPendulum, max_episode_steps=30)


def push(obs):
    return np.full((len(obs), 1), 1.5, dtype=np.float64)
'''


def write_user_module(directory, name: str, env_id: str):
    (directory / f"{name}.py").write_text(USER_MODULE.format(env_id=env_id))
    return directory


def test_random_policy_on_a_box_action_space_round_trips_through_parquet(tmp_path):
    dataset, _ = collect_dataset(CollectSpec(PENDULUM, episodes=3, policy="random"), use_ray=False)
    actions = dataset.episodes[0].actions
    assert actions.dtype == np.float32 and actions.shape == (200, 1)
    assert np.all(np.abs(actions) <= 2.0) and actions.std() > 0.5
    assert dataset.metadata.source == "random" and dataset.metadata.action_space["type"] == "Box"
    back = read_dataset(write_dataset(dataset, tmp_path / "pend.parquet"))
    assert np.array_equal(back.episodes[2].actions, dataset.episodes[2].actions)


def test_noise_one_needs_no_expert_and_callables_act_on_batches():
    noisy, _ = collect_dataset(CollectSpec(PENDULUM, episodes=2, noise=1.0), use_ray=False)
    assert noisy.metadata.source == "random" and noisy.metadata.noise == 1.0

    def push(obs):  # batch in, batch out
        return np.full((len(obs), 1), -2.0)

    pushed, _ = collect_dataset(CollectSpec(PENDULUM, episodes=2, policy=push), use_ray=False)
    assert np.all(pushed.episodes[0].actions == -2.0)
    assert pushed.metadata.source.startswith("callable:")


def test_policy_errors_name_the_policy_and_what_was_expected(tmp_path):
    with pytest.raises(ValueError, match="no expert for environment 'Pendulum-v1'.*--policy random"):
        collect_dataset(CollectSpec(PENDULUM, episodes=1), use_ray=False)
    with pytest.raises(ValueError, match="policy 'nowhere': not a directory or 'module:callable'"):
        collect_dataset(CollectSpec(PENDULUM, episodes=1, policy="nowhere"), use_ray=False)
    with pytest.raises(ValueError, match="module 'no_such_mod' cannot be imported"):
        collect_dataset(CollectSpec(PENDULUM, episodes=1, policy="no_such_mod:act"), use_ray=False)
    with pytest.raises(ValueError, match=r"returned actions of shape \(1,\) for observations of shape \(1, 3\); expected \(1, 1\)"):
        collect_dataset(CollectSpec(PENDULUM, episodes=1, policy=lambda obs: np.zeros(len(obs))),
                        use_ray=False)
    with pytest.raises(ValueError, match=r"policy .* failed on a batch of observations of shape \(1, 3\): "
                                         "ZeroDivisionError"):
        collect_dataset(CollectSpec(PENDULUM, episodes=1, policy=lambda obs: 1 / 0), use_ray=False)
    with pytest.raises(ValueError, match=r"Pendulum-v1: cannot be made with env kwargs \{'foo': 1\}"):
        collect_dataset(CollectSpec(PENDULUM, episodes=1, policy="random", env_kwargs=(("foo", 1),)),
                        use_ray=False)
    with pytest.raises(ValueError, match="not a readable run result"):
        collect_dataset(CollectSpec(PENDULUM, episodes=1, policy=str(tmp_path)), use_ray=False)


def test_a_run_directory_is_a_policy(tmp_path):
    from lfo_ray.experiment import train_run

    run = tmp_path / "bc"
    train_run("bc", GRID, "GridWorld-v0", 0, run, overrides={"train_steps": 200, "log_every": 100},
              eval_episodes=2, placement="local", progress=False)
    dataset, _ = collect_dataset(CollectSpec(GRID, episodes=5, policy=str(run)), use_ray=False)
    assert len(dataset) == 5 and dataset.metadata.source == f"run:{run.resolve()}"


def test_user_module_env_and_policy_in_process(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(write_user_module(tmp_path, "lfo_user_env_a", "UserPendulumA-v0")))
    spec = CollectSpec("lfo_user_env_a:UserPendulumA-v0", episodes=2, policy="lfo_user_env_a:push")
    dataset, _ = collect_dataset(spec, use_ray=False)
    assert dataset.metadata.env_id == "lfo_user_env_a:UserPendulumA-v0"
    assert len(dataset.episodes[0]) == 30 and np.all(dataset.episodes[0].actions == 1.5)
    by_flag = CollectSpec("UserPendulumA-v0", episodes=1, policy="random", env_modules=("lfo_user_env_a",))
    assert collect_dataset(by_flag, use_ray=False)[0].metadata.extra["env_modules"] == ["lfo_user_env_a"]
    with pytest.raises(ValueError, match="env module 'lfo_no_such_module' cannot be imported"):
        CollectSpec("X-v0", episodes=1, env_modules=("lfo_no_such_module",))


@pytest.mark.ray
def test_user_module_env_and_policy_on_ray_workers(tmp_path, monkeypatch, ray_session):
    # The module's directory reaches sys.path only here, after Ray started its workers: the
    # workers can import it only because the EnvId carries the directory.
    monkeypatch.syspath_prepend(str(write_user_module(tmp_path, "lfo_user_env_b", "UserPendulumB-v0")))
    spec = CollectSpec("UserPendulumB-v0", episodes=4, policy="lfo_user_env_b:push",
                       env_modules=("lfo_user_env_b",), envs_per_worker=2)
    on_ray, _ = collect_dataset(spec, workers=2, use_ray=True)
    in_process, _ = collect_dataset(spec, workers=2, use_ray=False)
    assert len(on_ray) == 4 and _same(on_ray, in_process)
    assert all(len(e) == 30 for e in on_ray.episodes)


@pytest.mark.ray
def test_an_env_registered_from_a_callable_in_this_process_reaches_ray_workers(ray_session):
    from gymnasium.envs.classic_control.pendulum import PendulumEnv

    class ScriptPendulum(PendulumEnv):  # as if defined in the user's script: no module to import
        pass

    gym.register("ScriptPendulum-v0", entry_point=ScriptPendulum, max_episode_steps=20)
    try:
        spec = CollectSpec("ScriptPendulum-v0", episodes=2, policy="random", envs_per_worker=2)
        dataset, _ = collect_dataset(spec, workers=2, use_ray=True)
        assert [len(e) for e in dataset.episodes] == [20, 20]
    finally:
        del gym.registry["ScriptPendulum-v0"]


@pytest.mark.ray
def test_train_run_on_ray_with_an_env_factory_and_a_dataset_object(tmp_path, ray_session):
    from lfo_ray.data import ObsDataset
    from lfo_ray.experiment import train_run

    def short_cartpole(**kwargs):
        return gym.wrappers.TimeLimit(gym.make("CartPole-v1", **kwargs).unwrapped, 60)

    demos = read_dataset(DEMOS / "CartPole-v1.parquet").select(range(4))
    assert isinstance(demos, ObsDataset)
    result = train_run("bco", short_cartpole, demos, 0, tmp_path,
                       overrides={"budget": 60, "alpha": 0, "iterations": 0, "inverse_updates": 10,
                                  "policy_updates": 10, "eval_episodes": 1},
                       eval_episodes=2, placement="ray", progress=False)
    assert result["env"].startswith("lfo_ray_factory/short_cartpole-")
    assert result["demos"] == str(tmp_path / "demos.parquet") and 0 < result["return_mean"] <= 60
