"""derive_seed: today's values on hand inputs, and the collision argument of lfo_ray.seeding."""

import pytest

from lfo_ray import seeding
from lfo_ray.seeding import STREAMS, derive_seed

TOP = 2**31 - 1
"""The largest accepted run seed (lfo_ray.validate.check_seed)."""


def test_values_are_those_the_code_used_before():
    # (run seed, stream, index) -> the expression each call site used to write.
    cases = [
        (0, seeding.ROLLOUT_WORKER, 0, 0),
        (3, seeding.ROLLOUT_WORKER, 2, 3 * 1000 + 2),
        (3, seeding.REPLAY_SHARD, 1, 3 * 1000 + 1),
        (TOP, seeding.COLLECT_WORKER, 999, TOP * 1000 + 999),
        (7, seeding.BC_EVAL, 0, 7 + 5_000),
        (7, seeding.LEARNED_REWARD_EVAL, 0, 7 + 7_919),
        (7, seeding.FINAL_EVAL, 0, 7 + 10_000),
        (7, seeding.ILPO_EVAL, 0, 7 + 50_000),
        (7, seeding.ILPO_DIAGNOSTICS, 3, 7 + 70_000 + 3),
        (7, seeding.DAGGER_POLICY, 2, 7 + 2),
        (7, seeding.DAGGER_EVAL, 2, 7 + 1000 * 2),
        (2, seeding.EXPERT_CHECK, 1234, 2 * 1000 + 1234),
        (2, seeding.EXPERT_RESELECT, 4, 500_000 + 2 * 1000 + 4),
        (2, seeding.EXPERT_EVAL, 0, 1_000_000 + 2),
    ]
    for seed, stream, index, expected in cases:
        assert derive_seed(seed, stream, index) == expected, (seed, stream, index)


def test_bad_streams_and_indices_are_refused():
    with pytest.raises(ValueError, match="unknown seed stream 'eval'"):
        derive_seed(0, "eval")
    with pytest.raises(ValueError, match="0 <= index < 1000, got index 1000"):
        derive_seed(0, seeding.ROLLOUT_WORKER, 1000)     # would be worker 0 of seed 1
    with pytest.raises(ValueError, match="0 <= index < 1, got index 1"):
        derive_seed(0, seeding.FINAL_EVAL, 1)
    with pytest.raises(ValueError, match="index >= 0"):
        derive_seed(0, seeding.DAGGER_EVAL, -1)


def test_indexed_streams_are_injective_over_seeds_and_indices():
    for stream in (seeding.ROLLOUT_WORKER, seeding.REPLAY_SHARD, seeding.COLLECT_WORKER):
        seeds = [0, 1, 2, 999, 1000, TOP - 1, TOP]
        values = {derive_seed(s, stream, k) for s in seeds for k in range(STREAMS[stream].indices)}
        assert len(values) == len(seeds) * 1000


# The offset streams each algorithm uses in one run, with the env seeds each can take (index, then
# up to 32 envs of a vector): what "never meet" is claimed for.
EVAL_ENVS = 32
RUNS = {
    "bc/bco": [(seeding.BC_EVAL, [0]), (seeding.FINAL_EVAL, [0])],
    "learned_reward/sac": [(seeding.LEARNED_REWARD_EVAL, [0]), (seeding.FINAL_EVAL, [0])],
    "ilpo": [(seeding.ILPO_EVAL, [0]), (seeding.ILPO_DIAGNOSTICS, range(100)), (seeding.FINAL_EVAL, [0])],
    "dagger (rounds <= 9)": [(seeding.DAGGER_EVAL, range(1, 10)), (seeding.FINAL_EVAL, [0])],
}


def env_seeds(seed, stream, indices):
    return {derive_seed(seed, stream, k) + j for k in indices for j in range(EVAL_ENVS)}


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("seed", [0, 1, 5, 10, 70, TOP])
def test_offset_streams_of_one_run_never_meet(run, seed):
    streams = RUNS[run]
    for a, (stream_a, indices_a) in enumerate(streams):
        for stream_b, indices_b in streams[a + 1:]:
            assert not env_seeds(seed, stream_a, indices_a) & env_seeds(seed, stream_b, indices_b)


def test_dagger_round_ten_is_the_final_evaluation():
    # The one overlap among offset streams the docstring keeps (rounds >= 10).
    assert derive_seed(4, seeding.DAGGER_EVAL, 10) == derive_seed(4, seeding.FINAL_EVAL)


def test_workers_meet_evaluations_only_where_the_docstring_says():
    # Worker slot k + i (< 1000) against evaluation env j (< 929): 999 s = c + j - (k + i). Exhaustive
    # over every seed where that is possible (s <= 70, as 999 * 71 > 70000 + 928); none above.
    assert 999 * 71 > 70_000 + 928
    offsets = {seeding.BC_EVAL: 5_000, seeding.LEARNED_REWARD_EVAL: 7_919, seeding.FINAL_EVAL: 10_000,
               seeding.ILPO_EVAL: 50_000, seeding.ILPO_DIAGNOSTICS: 70_000}
    found = {}
    for stream, offset in offsets.items():
        assert derive_seed(0, stream) == offset
        for s in range(71):
            evals = set(range(derive_seed(s, stream), derive_seed(s, stream) + 929))
            slots = [slot for slot in range(1000) if derive_seed(s, seeding.ROLLOUT_WORKER, 0) + slot in evals]
            if slots:
                found[stream, s] = (min(slots), derive_seed(s, seeding.ROLLOUT_WORKER, 0) + min(slots)
                                    - derive_seed(s, stream))
    # (stream, seed) -> (the smallest worker slot k + i that meets an evaluation env, that env's j)
    assert found == {
        (seeding.BC_EVAL, 5): (5, 0),
        (seeding.LEARNED_REWARD_EVAL, 7): (926, 0),
        (seeding.LEARNED_REWARD_EVAL, 8): (0, 73),
        (seeding.FINAL_EVAL, 10): (10, 0),
        (seeding.ILPO_EVAL, 50): (50, 0),
        (seeding.ILPO_DIAGNOSTICS, 70): (70, 0),
    }
    # Hence runs with fewer than 5 worker env slots are free of them at every seed.
    assert all(slot >= 5 or j >= 73 for slot, j in found.values())
