"""The tutorial's pickled GridWorld trajectories, and the restricted unpickler that reads them."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from lfo_ray.data.tutorial_pickle import load_restricted, read_tutorial_pickle
from lfo_ray.data.types import DataError

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = np.load(FIXTURES / "expected_tutorial.npz")


@pytest.mark.parametrize("path", ["tutorial", "tutorial/ckpt0.pkl", "tutorial_numpy1.pkl"])
def test_reads_tutorial_data(path):
    dataset = read_tutorial_pickle(FIXTURES / path)
    assert [len(e) for e in dataset.episodes] == [4, 3, 2]
    for i, ep in enumerate(dataset.episodes):
        assert ep.obs_shape == () and ep.observations.dtype == np.int64
        assert ep.actions.dtype == np.int64 and ep.rewards.dtype == np.float32
        np.testing.assert_array_equal(ep.observations, EXPECTED[f"obs{i}"])
        np.testing.assert_array_equal(ep.actions, EXPECTED[f"actions{i}"])
        np.testing.assert_array_equal(ep.rewards, EXPECTED[f"rewards{i}"])
    assert [(e.terminated, e.truncated) for e in dataset.episodes] == [(True, False), (False, True), (False, True)]
    assert dataset.episodes[0].observations[-1] == 2499
    meta = dataset.metadata
    assert meta.env_id == "lfo_ray/GridWorld-v0" and meta.source == "import:tutorial-pickle"
    assert meta.observation_space == {"type": "Discrete", "n": 2500, "start": 0}
    assert meta.action_space == {"type": "Discrete", "n": 4, "start": 0}
    assert meta.return_mean == pytest.approx(np.mean([10, 0, -2]))


def test_numpy1_fixture_uses_legacy_names():
    data = (FIXTURES / "tutorial_numpy1.pkl").read_bytes()
    assert b"numpy.core.multiarray" in data and b"numpy._core" not in data


def fixture_data() -> dict[str, np.ndarray]:
    return load_restricted(FIXTURES / "tutorial" / "ckpt0.pkl")


def write(tmp_path: Path, obj, protocol: int = 4) -> Path:
    path = tmp_path / "ckpt0.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_pickle_protocol_of_plain_arrays_loads(tmp_path, protocol):
    path = write(tmp_path, fixture_data(), protocol)
    assert [len(e) for e in read_tutorial_pickle(path).episodes] == [4, 3, 2]


class Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_refuses_os_system_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, {**fixture_data(), "states": Exploit(marker)})
    with pytest.raises(DataError) as error:
        read_tutorial_pickle(path)
    message = str(error.value)
    assert message.startswith(f"{path}: pickle refers to the forbidden global ")
    assert f"{os.system.__module__}.system" in message
    assert "expected only numpy arrays of numbers" in message
    assert not marker.exists()
    pickle.loads(path.read_bytes())
    assert marker.exists(), "sanity check: the same bytes do run code under plain pickle"


def test_refuses_code_objects_and_builtins(tmp_path):
    marker = tmp_path / "pwned"
    payloads = {
        "builtins.exec": b"cbuiltins\nexec\n(V" + f"open({str(marker)!r}, 'w')".encode() + b"\ntR.",
        "builtins.eval": b"cbuiltins\neval\n(V" + f"open({str(marker)!r}, 'w')".encode() + b"\ntR.",
        "marshal.loads": b"cmarshal\nloads\n(C\x00tR.",
        "types.FunctionType": b"ctypes\nFunctionType\n.",
        "numpy.load": b"cnumpy\nload\n(V/etc/passwd\ntR.",
        "builtins.getattr": b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x8c\x07getattr\x93.",
    }
    for name, payload in payloads.items():
        path = tmp_path / "evil.pkl"
        path.write_bytes(payload)
        with pytest.raises(DataError, match=rf"{path}: pickle refers to the forbidden global {name};"):
            read_tutorial_pickle(path)
    assert not marker.exists()


def test_refuses_object_arrays_holding_globals(tmp_path):
    marker = tmp_path / "pwned"
    holder = np.empty(1, dtype=object)
    holder[0] = Exploit(marker)
    path = write(tmp_path, {**fixture_data(), "rewards": holder})
    with pytest.raises(DataError, match="forbidden global"):
        read_tutorial_pickle(path)
    assert not marker.exists()


def test_refuses_non_numeric_arrays(tmp_path):
    path = write(tmp_path, {**fixture_data(), "actions": np.array([0, 1, 2], dtype=object)})
    with pytest.raises(DataError, match=rf"{path}: key 'actions' holds array of dtype object and shape "
                                        r"\(3,\); expected a 1-D numpy array of integer actions"):
        read_tutorial_pickle(path)


def bad(tmp_path: Path, **changes) -> str:
    data = {**fixture_data(), **changes}
    data = {k: v for k, v in data.items() if v is not None}
    path = write(tmp_path, data)
    with pytest.raises(DataError) as error:
        read_tutorial_pickle(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: "):]


def test_missing_key(tmp_path):
    assert bad(tmp_path, timestep_lens=None) == (
        "missing key 'timestep_lens'; expected a dict with keys "
        "['states', 'actions', 'rewards', 'timestep_lens']"
    )


def test_wrong_types(tmp_path):
    assert bad(tmp_path, states=[1, 2]) == "key 'states' holds list; expected a 1-D numpy array of integer cell ids"
    assert "key 'states' holds array of dtype float64 and shape (9,)" in bad(
        tmp_path, states=fixture_data()["states"].astype(float))
    assert "key 'rewards' holds array of dtype int64 and shape (9, 1)" in bad(
        tmp_path, rewards=np.zeros((9, 1), np.int64))


def test_lengths_disagree(tmp_path):
    assert bad(tmp_path, timestep_lens=np.array([4, 3, 3])) == (
        "states has 9 entries; expected sum(timestep_lens) = 10")
    assert "timestep_lens [4 0 5]...; expected one or more positive lengths" in bad(
        tmp_path, timestep_lens=np.array([4, 0, 5]))


def test_out_of_range(tmp_path):
    states = fixture_data()["states"].copy()
    states[5] = 2500
    assert bad(tmp_path, states=states) == "states[5] = 2500; expected 0..2499"
    actions = fixture_data()["actions"].copy()
    actions[2] = 4
    assert bad(tmp_path, actions=actions) == "actions[2] = 4; expected 0..3"


def test_non_finite_reward(tmp_path):
    rewards = fixture_data()["rewards"].copy()
    rewards[1] = np.nan
    assert bad(tmp_path, rewards=rewards) == "rewards[1] is not finite; expected finite numbers"


def test_stochastic_transitions_are_refused(tmp_path):
    actions = fixture_data()["actions"].copy()
    actions[1] = 2
    message = bad(tmp_path, actions=actions)
    assert message.startswith("episode 0, step 1 (index 1): moving left from cell 2447 leads to cell 2446, "
                              "but the next stored state is 2448; expected deterministic GridWorld moves")


def test_rewards_of_another_world_are_refused(tmp_path):
    rewards = fixture_data()["rewards"].copy()
    rewards[5] = -1
    assert bad(tmp_path, rewards=rewards) == (
        "episode 1, step 1 (index 5): reward -1.0, but the tutorial GridWorld pays 0.0; "
        "expected data from the tutorial's world (seed 1000)")


def test_not_a_dict(tmp_path):
    path = write(tmp_path, [np.zeros(3)])
    with pytest.raises(DataError, match=rf"{path}: holds a list; expected a dict with keys"):
        read_tutorial_pickle(path)


@pytest.mark.parametrize("content", [b"", b"\x80\x04garbage", b"not a pickle at all"])
def test_unreadable_bytes(tmp_path, content):
    path = tmp_path / "ckpt0.pkl"
    path.write_bytes(content)
    with pytest.raises(DataError, match=rf"{path}: not a readable pickle \(.*\); expected a pickled dict"):
        read_tutorial_pickle(path)


def test_missing_file_and_stray_file(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}/absent.pkl: no such file or directory"):
        read_tutorial_pickle(tmp_path / "absent.pkl")
    write(tmp_path, fixture_data())
    (tmp_path / "readme.md").write_text("x")
    with pytest.raises(DataError, match=rf"{tmp_path}: stray file 'readme.md' \(1 in all\) in a "
                                        r"tutorial-pickle directory; expected only \*.pkl or \*.pickle files"):
        read_tutorial_pickle(tmp_path)
