"""Every seed derived from a run's seed, by one function: `derive_seed(seed, stream, index)`.

    derive_seed(s, stream, k) = s * scale + offset + k * stride      (STREAMS[stream])

A stream names what it seeds; the values are exactly those the code used before this module, so
every reported figure reproduces. A vector of E envs seeded v resets its envs with v, v+1, ...,
v+E-1 (gymnasium), so an env seed stands for that block.

Indexed streams (rollout workers, replay shards, collection workers, the expert scripts' checks):
s * 1000 + k. With k < 1000 this is injective in (s, k): no two workers of any two runs share a seed.

Offset streams (evaluations, ILPO's diagnostics, DAgger's rounds): s + c (+ stride * k). The
streams one algorithm uses together differ by constants, whatever s is: BC/BCO 5000, learned
rewards 7919, ILPO 50000 and 70000 + k, each beside train_run's final evaluation at 10000, are
>= 2081 apart, so their blocks of up to 32 envs never meet. One exception is kept: DAgger's curve
evaluation of round r is s + 1000 r, which is the final evaluation's s + 10000 when r = 10
(rounds >= 10; the default is 8).

Indexed against offset streams of one run: worker slot k + i (worker k, env i) and evaluation env
j meet iff 1000 s + k + i = s + c + j, i.e. 999 s = c + j - (k + i), with k + i < 1000 and j < 929
(evaluations use at most 32 envs, ILPO's diagnostics a few episodes). So s = 0 never collides
(it needs k + i >= 5000), nor does any s > 70 (999 s > 70000 + 928). For 1 <= s <= 70 it needs a
multiple of 999 within [c - (k + i), c + j]: 4995 (s = 5) for c = 5000 when k + i >= 5, 9990
(s = 10) for 10000 when k + i >= 10, 49950 (s = 50) for 50000 when k + i >= 50, 69930 (s = 70) for
70000 when k + i >= 70; for 7919 (6993, 7992) k + i >= 926 or j >= 73. Runs with k + i < 5 are free
of collisions at every seed < 2**31; the cases above are today's values, kept.

DAgger steps its envs from the run seed itself (s .. s + num_envs - 1), below its curve
evaluations (s + 1000 r, r >= 1) while num_envs <= 1000.

Within one stream: worker k's E envs take 1000 s + k .. 1000 s + k + E - 1, so with E > 1 worker k's
env i and worker k + 1's env i - 1 start from the same seed (kept; a stride of E would separate
them). Equal values in different consumers are kept too: the indexed streams share one formula
(a worker's env and the replay shard of the same index hold equal generators), and DAgger's
round-r policy seed is its env r's; they draw for unrelated things (reset noise, minibatch
indices, action sampling).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stream:
    """seed * scale + offset + index * stride, for 0 <= index < indices (None: no bound)."""

    scale: int
    offset: int
    stride: int = 0
    indices: int | None = 1


INDEXED = 1000
"""The scale of the indexed streams, and their bound on the index."""

ROLLOUT_WORKER = "rollout_worker"
REPLAY_SHARD = "replay_shard"
COLLECT_WORKER = "collect_worker"
BC_EVAL = "bc_eval"
LEARNED_REWARD_EVAL = "learned_reward_eval"
FINAL_EVAL = "final_eval"
ILPO_EVAL = "ilpo_eval"
ILPO_DIAGNOSTICS = "ilpo_diagnostics"
DAGGER_POLICY = "dagger_policy"
DAGGER_EVAL = "dagger_eval"
EXPERT_CHECK = "expert_check"
EXPERT_RESELECT = "expert_reselect"
EXPERT_EVAL = "expert_eval"

STREAMS: dict[str, Stream] = {
    ROLLOUT_WORKER: Stream(INDEXED, 0, 1, INDEXED),      # RolloutGroup's worker `index`
    REPLAY_SHARD: Stream(INDEXED, 0, 1, INDEXED),        # ShardedReplay's shard `index`
    COLLECT_WORKER: Stream(INDEXED, 0, 1, INDEXED),      # `lfo collect`'s worker `index`
    BC_EVAL: Stream(1, 5_000),                           # BC's curve and BCO's evaluations
    LEARNED_REWARD_EVAL: Stream(1, 7_919),               # GAIL/GAIfO/... and SAC evaluations
    FINAL_EVAL: Stream(1, 10_000),                       # train_run's final score
    ILPO_EVAL: Stream(1, 50_000),                        # ILPO's evaluations
    ILPO_DIAGNOSTICS: Stream(1, 70_000, 1, None),        # ILPO's greedy episode `index`
    DAGGER_POLICY: Stream(1, 0, 1, None),                # DAgger's acting policy in round `index`
    DAGGER_EVAL: Stream(1, 0, 1_000, None),              # DAgger's curve after round `index`
    # experiments/train_experts.py: selection checks at iteration `index` (not bounded: the
    # script predates this module), re-evaluation of candidate `index`, the final evaluation.
    EXPERT_CHECK: Stream(INDEXED, 0, 1, None),
    EXPERT_RESELECT: Stream(INDEXED, 500_000, 1, None),
    EXPERT_EVAL: Stream(1, 1_000_000),
}


def derive_seed(seed: int, stream: str, index: int = 0) -> int:
    """The seed of `stream`'s `index`-th consumer in the run of `seed` (see the module doc)."""
    if stream not in STREAMS:
        raise ValueError(f"unknown seed stream {stream!r}; known: {', '.join(STREAMS)}")
    spec = STREAMS[stream]
    if index < 0 or (spec.indices is not None and index >= spec.indices):
        bound = "any index >= 0" if spec.indices is None else f"0 <= index < {spec.indices}"
        raise ValueError(f"seed stream {stream!r} takes {bound}, got index {index}")
    return int(seed) * spec.scale + spec.offset + int(index) * spec.stride
