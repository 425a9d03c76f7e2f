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


import torch

from lfo_ray.algorithms.mce_irl.config import MCEIRLConfig
from lfo_ray.algorithms.tabular import (
    TabularModel,
    demo_start_distribution,
    demo_state_counts,
    soft_value_iteration,
    state_features,
    state_visitation,
    table_policy,
)
from lfo_ray.algorithms.tabular.irl import (
    exact_return,
    feature_gradient,
    irl_metrics,
    save_irl_checkpoint,
    tabular_env_only,
)
from lfo_ray.experiment import AlgorithmSpec, RunContext, TrainOutput
from lfo_ray.nets import pick_device


def train(config: MCEIRLConfig, ctx: RunContext) -> TrainOutput:
    model = TabularModel.from_env_kwargs(ctx.env_kwargs, pick_device(config.device))
    features = state_features(config.features, model)
    expert_features = demo_state_counts(ctx.demos, model, config.gamma) @ features
    start = demo_start_distribution(ctx.demos, model)
    theta = torch.zeros(features.shape[1], dtype=torch.float64, device=model.device, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=config.lr)
    values = None

    for iteration in range(config.iterations):
        with torch.no_grad():
            plan = soft_value_iteration(model, features @ theta, config.gamma, max_iters=config.sweeps,
                                        init_values=values)
            values = plan.values
            learner_counts = state_visitation(model, plan.policy, config.gamma, start=start)
            gradient = feature_gradient(expert_features, learner_counts, features) - config.l2 * theta
        theta.grad = -gradient
        optimizer.step()
        ctx.writer.add_scalar("losses/feature_gap_l1", (gradient + config.l2 * theta).abs().sum().item(), iteration)
        ctx.writer.add_scalar("charts/soft_vi_sweeps", plan.iterations, iteration)
        if iteration % config.eval_every == 0:
            ctx.report(0, exact_return(model, plan.policy, config.greedy), step=iteration)

    with torch.no_grad():
        reward = features @ theta
        plan = soft_value_iteration(model, reward, config.gamma, init_values=values)
    deployed = table_policy(plan.policy.cpu().numpy(), greedy=config.greedy, seed=ctx.seed)
    save_irl_checkpoint(ctx.checkpoint_dir, model, theta, reward, deployed, "MCE IRL reward",
                        {"features": config.features, "gamma": config.gamma, "horizon": model.horizon})
    return TrainOutput(policy=deployed, env_steps=0, metrics=irl_metrics(model, reward, deployed))


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
