"""Environments of lfo-ray, registered with gymnasium under the `lfo_ray/` namespace."""

import gymnasium as gym

CLASSIC_CONTROL = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")
GRIDWORLD = "lfo_ray/GridWorld-v0"


def _register() -> None:
    if GRIDWORLD not in gym.registry:
        gym.register(
            id=GRIDWORLD,
            entry_point="lfo_ray.envs.gridworld:GridWorldEnv",
            vector_entry_point="lfo_ray.envs.gridworld:GridWorldVectorEnv",
        )


_register()


def make_vector_env(env_id: str, num_envs: int, **env_kwargs) -> gym.vector.VectorEnv:
    """`num_envs` copies of `env_id` that reset in the same step they finish.

    Environments with a native batched implementation use it; others run in a SyncVectorEnv.
    The final observation of a finished episode is in info["final_obs"] (mask "_final_obs").
    """
    from gymnasium.vector import AutoresetMode

    try:
        spec = gym.spec(env_id)
    except gym.error.Error as error:
        known = ", ".join(sorted(CLASSIC_CONTROL + (GRIDWORLD,)))
        raise ValueError(f"unknown environment {env_id!r} ({error}); lfo-ray ships: {known}") from None
    if spec.vector_entry_point is not None:
        return gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point", **env_kwargs)
    return gym.make_vec(
        env_id, num_envs, vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **env_kwargs,
    )
