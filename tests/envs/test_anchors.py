"""Normalisation anchors: measured random returns, and where each anchor is taken from."""

from __future__ import annotations

import pytest

from lfo_ray.data import DatasetMetadata
from lfo_ray.envs import CLASSIC_CONTROL, MUJOCO
from lfo_ray.envs.anchors import (Anchors, known_anchors, random_returns, resolve_anchors,
                                  shipped_random_returns)

from tests.conftest import env_without_shipped_expert


def test_shipped_random_return_is_what_the_measurement_gives():
    shipped = shipped_random_returns()
    assert set(MUJOCO + CLASSIC_CONTROL) <= set(shipped)
    entry = shipped["InvertedPendulum-v5"]
    returns = random_returns("InvertedPendulum-v5", entry["episodes"], entry["seed"])
    assert len(returns) == entry["episodes"]
    assert round(float(returns.mean()), 3) == entry["return_mean"]


def test_anchor_sources_in_order():
    shipped = known_anchors("CartPole-v1")
    assert set(shipped) == {"random", "expert"}
    assert resolve_anchors("CartPole-v1") == Anchors(shipped["random"], shipped["expert"])
    stored = DatasetMetadata("CartPole-v1", source="expert:x", return_mean=450.0,
                             extra={"anchors": {"random": 10.0}})
    assert resolve_anchors("CartPole-v1", stored) == Anchors(10.0, shipped["expert"])
    assert resolve_anchors("CartPole-v1", stored, random=1.0, expert=2.0) == Anchors(1.0, 2.0)
    # No shipped expert: a noiseless expert's demonstrations stand in; noisy ones do not.
    env_id = env_without_shipped_expert()
    demos = DatasetMetadata(env_id, source="expert:sac", return_mean=3000.0)
    assert resolve_anchors(env_id, demos).expert == 3000.0
    noisy = DatasetMetadata(env_id, source="expert:sac", return_mean=2000.0, noise=0.25)
    with pytest.raises(ValueError, match="no expert return"):
        resolve_anchors(env_id, noisy)
    with pytest.raises(ValueError, match="nothing to normalise by"):
        resolve_anchors(env_id, random=5.0, expert=5.0)
