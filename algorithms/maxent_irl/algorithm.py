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


import torch

from lfo_ray.algorithms.maxent_irl.config import MaxEntIRLConfig
from lfo_ray.algorithms.maxent_irl.losses import backward_pass
from lfo_ray.algorithms.tabular import (
    TabularModel,
    demo_start_distribution,
    demo_state_counts,
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


def train(config: MaxEntIRLConfig, ctx: RunContext) -> TrainOutput:
    model = TabularModel.from_env_kwargs(ctx.env_kwargs, pick_device(config.device))
    features = state_features(config.features, model)
    expert_features = demo_state_counts(ctx.demos, model) @ features
    start = demo_start_distribution(ctx.demos, model)
    theta = torch.zeros(features.shape[1], dtype=torch.float64, device=model.device, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=config.lr)

    for iteration in range(config.iterations):
        with torch.no_grad():
            policy = backward_pass(model, features @ theta, model.horizon).exp()
            learner_counts = state_visitation(model, policy, start=start)
            gradient = feature_gradient(expert_features, learner_counts, features) - config.l2 * theta
        theta.grad = -gradient
        optimizer.step()
        ctx.writer.add_scalar("losses/feature_gap_l1", (gradient + config.l2 * theta).abs().sum().item(), iteration)
        if iteration % config.eval_every == 0:
            ctx.report(0, exact_return(model, policy, config.greedy), step=iteration)

    with torch.no_grad():
        reward = features @ theta
        policy = backward_pass(model, reward, model.horizon).exp()
    deployed = table_policy(policy.cpu().numpy(), greedy=config.greedy, seed=ctx.seed)
    save_irl_checkpoint(ctx.checkpoint_dir, model, theta, reward, deployed, "MaxEnt IRL reward",
                        {"features": config.features, "gamma": 1.0, "horizon": model.horizon})
    return TrainOutput(policy=deployed, env_steps=0, metrics=irl_metrics(model, reward, deployed))


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
