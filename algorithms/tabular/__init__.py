"""Shared tabular toolkit for the GridWorld algorithms.

The known model as torch tensors (`TabularModel`), soft and hard value iteration, exact state
visitation frequencies by dynamic programming over the horizon, exact policy evaluation,
state features, table policies and the reward heatmap. Every computation is an array
operation over all states at once; nothing loops over cells.
"""

from lfo_ray.algorithms.tabular.features import FEATURES, state_features
from lfo_ray.algorithms.tabular.model import TabularModel
from lfo_ray.algorithms.tabular.planning import (
    SoftPlan,
    soft_value_iteration,
    value_iteration,
)
from lfo_ray.algorithms.tabular.policy import deployed_probs, table_policy
from lfo_ray.algorithms.tabular.visitation import (
    demo_start_distribution,
    demo_state_counts,
    expected_return,
    policy_returns,
    state_visitation,
)

__all__ = [
    "FEATURES",
    "SoftPlan",
    "TabularModel",
    "demo_start_distribution",
    "deployed_probs",
    "demo_state_counts",
    "expected_return",
    "policy_returns",
    "table_policy",
    "soft_value_iteration",
    "state_features",
    "state_visitation",
    "value_iteration",
]
