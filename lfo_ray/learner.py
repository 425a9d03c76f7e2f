"""Learners: torch modules and optimisers on the best device, fed in large batches.

A learner is a plain object; placed on Ray it becomes an actor that asks for a GPU when the
cluster has one. It pulls many minibatches from the replay in one call (`update_from`), so one
Ray round trip feeds many gradient steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lfo_ray.batch import SampleBatch
from lfo_ray.nets import pick_device, to_tensor
from lfo_ray.placement import Handle, resolve


def to_numpy_state(module: torch.nn.Module) -> dict[str, np.ndarray]:
    """CPU numpy copy of a module's parameters: what travels to rollout workers."""
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def load_numpy_state(module: torch.nn.Module, state: dict[str, np.ndarray]) -> None:
    module.load_state_dict({k: to_tensor(v, None) for k, v in state.items()})


class TorchLearner:
    """Base of the algorithms' learners.

    Subclasses fill `self.modules` and `self.optimizers` and implement `update(batch)`; this
    class provides device placement, batched replay pulls, weights and checkpoint state.
    """

    def __init__(self, device: str | None = None) -> None:
        self.device = pick_device(device)
        self.modules: dict[str, torch.nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.updates = 0

    def update(self, batch: SampleBatch) -> dict[str, float]:
        raise NotImplementedError

    def update_from(self, replay: Handle, num_updates: int, batch_size: int) -> dict[str, float]:
        """`num_updates` gradient steps on minibatches drawn by one replay call."""
        big = resolve(replay.call("sample", num_updates * batch_size))
        metrics: dict[str, list[float]] = {}
        for k in range(num_updates):
            for name, value in self.update(big.take(slice(k * batch_size, (k + 1) * batch_size))).items():
                metrics.setdefault(name, []).append(value)
        return {name: float(np.mean(values)) for name, values in metrics.items()}

    def tensor(self, array: np.ndarray, dtype: torch.dtype | None = torch.float32) -> torch.Tensor:
        return to_tensor(array, dtype, self.device)

    def get_weights(self, names: list[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
        return {name: to_numpy_state(self.modules[name]) for name in (names or list(self.modules))}

    def device_name(self) -> str:
        return str(self.device)

    def state_dict(self) -> dict[str, Any]:
        return {
            "modules": {n: {k: v.cpu() for k, v in m.state_dict().items()} for n, m in self.modules.items()},
            "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, module_state in state["modules"].items():
            self.modules[name].load_state_dict(module_state)
        for name, optimizer_state in state["optimizers"].items():
            self.optimizers[name].load_state_dict(optimizer_state)
        self.updates = state["updates"]
