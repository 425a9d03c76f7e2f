"""Expert policies for every shipped environment, produced by lfo-ray's own code.

GridWorld's expert is value iteration on the known model (optimal). The classic-control and MuJoCo
experts are files in envs/experts/ written by experiments/train_experts.py: CartPole-v1 and
Acrobot-v1 are RLlib PPO policies exported to plain torch MLPs (`MLPPolicy`), MountainCar-v0 is
value iteration on its known dynamics (`lfo_ray.envs.mountaincar_expert`), the MuJoCo tasks' are
lfo-ray's own SAC actors, stored as an lfo_ray.policy spec (JSON) and state dict (greedy: the
squashed Gaussian's mean). Loading them needs only
torch and numpy, never RLlib. `expert_info(env_id)` says how each was made and what it scored.

Python code can supply the expert of any env with `register_expert(env_id, policy)` (an object
with act(obs batch) -> action batch, e.g. a hand-written controller): `load_expert` then returns
it in this process, for DAgger's labels and `lfo collect --policy expert` alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from lfo_ray.envs import CLASSIC_CONTROL, GRIDWORLD, MUJOCO, PIXEL_GRIDWORLD

# Format tags of the weight files (the "format" entry of the saved dict).
MLP_FORMAT = "lfo_ray.expert.mlp/1"
MOUNTAINCAR_VI_FORMAT = "lfo_ray.expert.mountaincar-vi/1"
POLICY_FORMAT = "lfo_ray.expert.policy/1"
"""{"format", "spec": policy.json's text, "state_dict"}: an lfo_ray.policy.Policy in one file."""
ACTIVATIONS = ("tanh", "relu", "silu", "elu")
# gym.make kwargs that leave the dynamics alone, accepted by the classic-control experts.
HARMLESS_KWARGS = ("render_mode", "max_episode_steps")
REGENERATE = "python experiments/train_experts.py --env {env_id}"

_REGISTERED: dict[str, Any] = {}
"""env id -> the expert registered in this process (register_expert)."""


def register_expert(env_id: str, policy: Any) -> None:
    """Makes `policy` the expert of `env_id` in this process (it takes precedence over a shipped
    one); None removes a registration. `policy` has act(obs batch) -> action batch."""
    if policy is None:
        _REGISTERED.pop(env_id, None)
        return
    if not callable(getattr(policy, "act", None)):
        raise ValueError(f"register_expert({env_id!r}): {type(policy).__name__} has no act(obs) method")
    _REGISTERED[env_id] = policy


@dataclass(frozen=True)
class TablePolicy:
    """Greedy policy over a discrete state space: action = table[state]."""

    table: np.ndarray

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.table[np.asarray(obs, dtype=np.int64)]


def gridworld_expert(**env_kwargs: Any) -> TablePolicy:
    from lfo_ray.envs.gridworld import make_spec, value_iteration

    spec = make_spec(env_kwargs.get("seed"), env_kwargs.get("world"), env_kwargs.get("size", 50))
    _, greedy = value_iteration(spec, gamma=0.999,
                                transition_prob=bool(env_kwargs.get("transition_prob", False)))
    return TablePolicy(greedy)


# ---------------------------------------------------------------------------------------------
# Torch MLP experts


def build_mlp(arch: dict[str, Any]):
    """The torch.nn.Sequential described by `arch`.

    arch = {"type": "mlp", "obs_dim": int, "hidden": [int, ...], "activation": one of
    ACTIVATIONS, "n_actions": int}: Linear layers with the activation between them, none after
    the last (which outputs one logit per action); lfo_ray.nets.tanh_mlp with torch's default
    initialisation, as the weights are loaded over it.
    """
    from lfo_ray.nets import tanh_mlp

    if arch.get("type") != "mlp":
        raise ValueError(f"not an MLP architecture: {arch!r}")
    if arch["activation"] not in ACTIVATIONS:
        raise ValueError(f"unknown activation {arch['activation']!r}; known: {ACTIVATIONS}")
    return tanh_mlp(int(arch["obs_dim"]), [int(h) for h in arch["hidden"]], int(arch["n_actions"]),
                    activation=arch["activation"], orthogonal=False)


class MLPPolicy:
    """Greedy policy of a torch MLP: action = argmax of its logits. CPU, no grad, batched."""

    def __init__(self, net, arch: dict[str, Any]) -> None:
        import torch

        self.net = net.to("cpu").eval()
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)
        self.arch = dict(arch)
        self.obs_dim = int(arch["obs_dim"])
        self.n_actions = int(arch["n_actions"])
        self._torch = torch

    @classmethod
    def from_state(cls, arch: dict[str, Any], state_dict: dict[str, Any]) -> "MLPPolicy":
        net = build_mlp(arch)
        net.load_state_dict(state_dict)
        return cls(net, arch)

    def logits(self, obs: np.ndarray) -> np.ndarray:
        from lfo_ray.nets import to_tensor

        obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(f"expected observations of shape (B, {self.obs_dim}), got {obs.shape}")
        with self._torch.inference_mode():
            return self.net(to_tensor(np.ascontiguousarray(obs))).numpy()

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.logits(obs).argmax(axis=1).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Shipped expert files


def expert_files(env_id: str):
    """(weights, info) paths of `env_id`'s expert inside the installed package."""
    folder = resources.files("lfo_ray.envs") / "experts"
    return folder / f"{env_id}.pt", folder / f"{env_id}.json"


def _missing(env_id: str, path) -> FileNotFoundError:
    return FileNotFoundError(
        f"expert file for {env_id} not found: {path}. Regenerate it from the repository root with "
        f"`{REGENERATE.format(env_id=env_id)}` (writes envs/experts/{env_id}.pt and .json)."
    )


def _classic(env_id: str) -> None:
    """Refuses envs that have no expert file; MuJoCo tasks have one once train_experts.py made it."""
    shipped = [e for e in MUJOCO if expert_files(e)[0].is_file()]
    if env_id not in CLASSIC_CONTROL and env_id not in shipped:
        missing = f" ({env_id} has none yet: `{REGENERATE.format(env_id=env_id)}` makes it)" if env_id in MUJOCO else ""
        raise ValueError(f"no expert for environment {env_id!r}{missing}; experts exist for "
                         f"{', '.join((GRIDWORLD, *CLASSIC_CONTROL, *shipped))}")


def load_expert_file(env_id: str):
    """The Policy stored in envs/experts/<env_id>.pt."""
    import torch

    _classic(env_id)
    weights, _ = expert_files(env_id)
    if not weights.is_file():
        raise _missing(env_id, weights)
    with weights.open("rb") as handle:
        saved = torch.load(handle, map_location="cpu", weights_only=True)
    kind = saved.get("format")
    if kind == MLP_FORMAT:
        return MLPPolicy.from_state(saved["arch"], saved["state_dict"])
    if kind == POLICY_FORMAT:
        from lfo_ray.policy import PolicySpec, policy_from_state

        return policy_from_state(PolicySpec.from_dict(json.loads(saved["spec"])), saved["state_dict"])
    if kind == MOUNTAINCAR_VI_FORMAT:
        from lfo_ray.envs.mountaincar_expert import MountainCarPlanner

        return MountainCarPlanner(saved["state_dict"]["value"].numpy(),
                                  lookahead=int(saved["arch"]["lookahead"]))
    raise ValueError(f"{weights}: unknown expert format {kind!r}; regenerate it with "
                     f"`{REGENERATE.format(env_id=env_id)}`")


def load_expert(env_id: str, **env_kwargs: Any):
    """The expert Policy of `env_id` (built with the same env kwargs as the env).

    The classic-control experts were made for the environments' default parameters; env kwargs
    that change the dynamics are refused rather than silently ignored. An expert registered
    with `register_expert` is returned as it is, whatever the kwargs.
    """
    if env_id in _REGISTERED:
        return _REGISTERED[env_id]
    if env_id == GRIDWORLD:
        return gridworld_expert(**env_kwargs)
    if env_id == PIXEL_GRIDWORLD:
        from lfo_ray.envs.pixel_gridworld import pixel_expert

        return pixel_expert(**env_kwargs)
    _classic(env_id)
    changed = {key: value for key, value in env_kwargs.items() if key not in HARMLESS_KWARGS}
    if changed:
        raise ValueError(f"the {env_id} expert was made for the default environment; "
                         f"unsupported env kwargs {sorted(changed)}")
    return load_expert_file(env_id)


def expert_info(env_id: str) -> dict[str, Any]:
    """How the expert of `env_id` was made and what it scored (envs/experts/<env_id>.json)."""
    if env_id in _REGISTERED:
        name = type(_REGISTERED[env_id]).__qualname__
        return {"env_id": env_id, "source": f"expert:registered:{name}", "kind": "registered",
                "description": f"{name}, registered in Python with register_expert"}
    if env_id in (GRIDWORLD, PIXEL_GRIDWORLD):
        return {"env_id": env_id, "source": "expert:value-iteration", "algorithm": "value-iteration",
                "kind": "planner", "description": "value iteration on the known model (optimal), "
                "computed when loaded"}
    _classic(env_id)
    _, info = expert_files(env_id)
    if not info.is_file():
        raise _missing(env_id, info)
    return json.loads(info.read_text())


def expert_source(env_id: str) -> str:
    """How the expert was made, as recorded in dataset metadata."""
    return str(expert_info(env_id)["source"])
