"""Placing a component in this process or as a Ray actor, behind one calling convention.

Algorithms call `handle.call("method", ...)` and `resolve(...)` and never branch on placement;
the components themselves are plain classes (ReplayBuffer, RolloutWorker, a learner), and the
Ray actor is only `ray.remote(cls)`: logic never lives in the wrapper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Done:
    """An already-computed result of a local call."""

    value: Any


class Handle:
    """A component placed somewhere; `call` returns a future for `resolve`."""

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


class LocalHandle(Handle):
    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def call(self, method: str, *args: Any, **kwargs: Any) -> Done:
        return Done(getattr(self.obj, method)(*args, **kwargs))


class RayHandle(Handle):
    """A Ray actor. Picklable, so it can be handed to other actors (e.g. the replay)."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.actor, method).remote(*args, **kwargs)


def resolve(futures: Any) -> Any:
    """The value(s) of one future or a list of futures from either kind of handle."""
    if isinstance(futures, list):
        if any(not isinstance(f, Done) for f in futures):
            import ray

            refs = [f for f in futures if not isinstance(f, Done)]
            values = iter(ray.get(refs))
            return [f.value if isinstance(f, Done) else next(values) for f in futures]
        return [f.value for f in futures]
    if isinstance(futures, Done):
        return futures.value
    import ray

    return ray.get(futures)


@dataclass(frozen=True)
class Placement:
    """Where components go: "local" (one process, for tests and debugging) or "ray"."""

    mode: str = "ray"
    address: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("local", "ray"):
            raise ValueError(f"placement must be 'local' or 'ray', got {self.mode!r}")

    @property
    def on_ray(self) -> bool:
        return self.mode == "ray"

    def start(self) -> None:
        """Connects to (or starts) Ray; called on first use, so Ray-free algorithms never pay it."""
        if self.on_ray:
            from lfo_ray.runtime import ensure_ray

            ensure_ray(self.address)

    def place(self, cls: type, *args: Any, num_cpus: float = 0.5, num_gpus: float = 0,
              restartable: bool = False, spread: bool = False, **kwargs: Any) -> Handle:
        """Constructs `cls(*args, **kwargs)` here or as a Ray actor.

        restartable: Ray restarts the actor if it dies (its process, or its node) and retries its
        pending calls, so a stateless-between-calls component (a rollout worker) survives a crash.
        spread: Ray's SPREAD strategy, spreading a group of such actors over the cluster's nodes.
        Other components that cannot be restarted (learners, replays: they hold the run's state)
        prefer the caller's node (soft affinity: elsewhere when it lacks the resources, e.g. a
        GPU), so losing any other node loses no state. Inside a placement group (a Tune trial)
        neither applies: the group's bundles place the actors.
        """
        if not self.on_ray:
            return LocalHandle(cls(*args, **kwargs))
        self.start()
        import ray

        options: dict[str, Any] = {"num_cpus": num_cpus, "num_gpus": num_gpus}
        if restartable:
            options.update(max_restarts=-1, max_task_retries=-1)
        from ray.util import get_current_placement_group
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        # Inside a placement group (a Tune trial) its bundles place the actors: a strategy would escape them.
        if get_current_placement_group() is None and (spread or not restartable):
            options["scheduling_strategy"] = "SPREAD" if spread else NodeAffinitySchedulingStrategy(
                ray.get_runtime_context().get_node_id(), soft=True)
        return RayHandle(ray.remote(cls).options(**options).remote(*args, **kwargs))

    def put(self, value: Any) -> Any:
        """Stores a value once for many readers (the object store on Ray)."""
        if not self.on_ray:
            return value
        self.start()
        import ray

        return ray.put(value)


def get_put(value: Any) -> Any:
    """Inverse of Placement.put, usable inside any component."""
    try:
        import ray
    except ImportError:  # pragma: no cover - ray is a dependency
        return value
    if isinstance(value, ray.ObjectRef):
        return ray.get(value)
    return value


def gpus_available() -> float:
    """GPUs in the Ray cluster (0 when Ray is not running). Checked before asking for one:
    an actor that requests a GPU that does not exist waits forever."""
    import ray

    if not ray.is_initialized():
        return 0.0
    return float(ray.cluster_resources().get("GPU", 0.0))


def learner_gpus(placement: Placement, device: str | None, share: float = 1.0) -> float:
    """GPUs a learner asks Ray for: `share` when its device may be CUDA ("auto"/None or "cuda...")
    and the cluster has a GPU, else 0. A learner on "auto" then finds CUDA visible inside its actor
    (Ray sets CUDA_VISIBLE_DEVICES to its share) and runs there; without a GPU share it sees none
    and stays on the CPU, so asking and using always agree."""
    if not placement.on_ray or (device not in (None, "", "auto") and not str(device).startswith("cuda")):
        return 0.0
    placement.start()
    return share if gpus_available() >= share else 0.0


def kill_all(handles: Sequence[Handle]) -> None:
    for handle in handles:
        if isinstance(handle, RayHandle):
            import ray

            ray.kill(handle.actor)
