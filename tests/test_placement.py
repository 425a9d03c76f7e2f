"""Placement decisions that need no actors: how many GPUs a learner asks Ray for."""

import pytest

from lfo_ray.placement import Placement, gpus_available, learner_gpus


def test_a_local_or_cpu_learner_never_asks_for_a_gpu():
    assert learner_gpus(Placement("local"), "auto") == 0
    assert learner_gpus(Placement("ray"), "cpu") == 0   # decided before Ray is even started


@pytest.mark.ray
def test_an_auto_learner_asks_for_a_gpu_only_where_the_cluster_has_one(ray_session):
    expected = 0.5 if gpus_available() >= 0.5 else 0.0
    assert learner_gpus(Placement("ray"), "auto", share=0.5) == expected
    assert learner_gpus(Placement("ray"), None, share=0.5) == expected
