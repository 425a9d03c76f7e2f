"""Maximum causal entropy IRL on the known GridWorld model, from observations only.

    f_E = the demonstrator's discounted counts of entered states, mapped to features
    p0 = the demonstrations' empirical start distribution
    theta = 0
    repeat:
        r = phi theta
        pi = soft_value_iteration(r, gamma).policy    # exp(Q_soft - V_soft), stationary
        D = state_visitation(pi, gamma, from p0)      # exact discounted counts, horizon H
        theta += Adam step along f_E - phi^T D        # causal log-likelihood gradient
    deploy pi of the final reward

Unlike MaxEnt IRL (maxent_irl/losses.py), the soft backup takes the expectation over the next
state inside the log-sum-exp's argument, so the learner cannot count on lucky transitions.
Soft value iteration is warm-started from the previous step's values and runs at most
`sweeps` sweeps per step; the goal is absorbing (tabular/model.py).
"""

from __future__ import annotations

import functools

from lfo_ray.algorithms.mce_irl.config import MCEIRLConfig
from lfo_ray.algorithms.tabular import TabularModel, soft_value_iteration
from lfo_ray.algorithms.tabular.irl import Planner, feature_matching, tabular_env_only
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput


def planner(config: MCEIRLConfig, model: TabularModel) -> Planner:
    """The soft policy of soft value iteration, warm-started from the previous plan's values; the
    final plan runs to convergence."""
    values = None

    def plan(reward, final):
        nonlocal values
        out = soft_value_iteration(model, reward, config.gamma, init_values=values,
                                   **({} if final else {"max_iters": config.sweeps}))
        values = out.values
        return out.policy, {"charts/soft_vi_sweeps": out.iterations}

    return plan


def train(config: MCEIRLConfig, ctx: RunContext) -> TrainOutput:
    return feature_matching(config, ctx, functools.partial(planner, config), config.gamma, "MCE IRL reward")


ALGORITHM = AlgorithmSpec(
    name="mce_irl",
    supports=tabular_env_only("mce_irl"),
    config_cls=MCEIRLConfig,
    train=train,
    observation_only=True,
    description="Maximum causal entropy IRL (Ziebart 2010): soft value iteration, exact visitation.",
    placements=("local",),
    resumable=False,
)
