"""Maximum Entropy IRL on the known GridWorld model, from observations only.

    f_E = the demonstrator's mean counts of entered states, mapped to features (phi^T D_E)
    p0 = the demonstrations' empirical start distribution
    theta = 0
    repeat:
        r = phi theta
        log pi = backward_pass(r)                 # MaxEnt local action probabilities
        D = state_visitation(pi, from p0)         # exact expected counts, horizon H
        theta += Adam step along f_E - phi^T D    # log-likelihood gradient
    deploy pi of the final reward

Undiscounted with a finite horizon (the episode's 200 steps), the goal absorbing.
"""

from __future__ import annotations

from lfo_ray.algorithms.maxent_irl.config import MaxEntIRLConfig
from lfo_ray.algorithms.maxent_irl.losses import backward_pass
from lfo_ray.algorithms.tabular import TabularModel
from lfo_ray.algorithms.tabular.irl import Planner, feature_matching, tabular_env_only
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput


def planner(model: TabularModel) -> Planner:
    """MaxEnt's local action probabilities with the episode's horizon to go."""
    return lambda reward, final: (backward_pass(model, reward, model.horizon).exp(), {})


def train(config: MaxEntIRLConfig, ctx: RunContext) -> TrainOutput:
    return feature_matching(config, ctx, planner, 1.0, "MaxEnt IRL reward")


ALGORITHM = AlgorithmSpec(
    name="maxent_irl",
    supports=tabular_env_only("maxent_irl"),
    config_cls=MaxEntIRLConfig,
    train=train,
    observation_only=True,
    description="MaxEnt IRL (Ziebart 2008): exact backward/forward passes on the known model.",
    placements=("local",),
    resumable=False,
)
