"""Environments of lfo-ray, registered with gymnasium under the `lfo_ray/` namespace."""

import warnings

import gymnasium as gym

# gymnasium 1.2's HalfCheetah XML uses an attribute mujoco 3.x deprecates: nothing a user can act on.
warnings.filterwarnings("ignore", message="MuJoCo: compiler attribute 'settotalmass'", category=RuntimeWarning)

CLASSIC_CONTROL = ("CartPole-v1", "Acrobot-v1", "MountainCar-v0")
MUJOCO = ("InvertedPendulum-v5", "InvertedDoublePendulum-v5", "Hopper-v5", "HalfCheetah-v5",
          "Walker2d-v5", "Ant-v5")
"""gymnasium's MuJoCo v5 tasks (the `mujoco` dependency): continuous actions, experts trained by lfo-ray's
SAC. They simulate headless; only render_mode needs an OpenGL context."""
GRIDWORLD = "lfo_ray/GridWorld-v0"
PIXEL_GRIDWORLD = "lfo_ray/PixelGridWorld-v0"


def _register() -> None:
    if GRIDWORLD not in gym.registry:
        gym.register(
            id=GRIDWORLD,
            entry_point="lfo_ray.envs.gridworld:GridWorldEnv",
            vector_entry_point="lfo_ray.envs.gridworld:GridWorldVectorEnv",
        )
    if PIXEL_GRIDWORLD not in gym.registry:
        gym.register(
            id=PIXEL_GRIDWORLD,
            entry_point="lfo_ray.envs.pixel_gridworld:PixelGridWorldEnv",
            vector_entry_point="lfo_ray.envs.pixel_gridworld:PixelGridWorldVectorEnv",
        )


_register()


def env_spec(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registered spec of `env_id`; a clear error listing shipped envs when unknown.

    Gymnasium's "module:Env-v0" form imports the module first (it registers the env).
    """
    from lfo_ray.envs.user import bare_id, import_env_module

    if ":" in env_id:
        import_env_module(env_id.split(":", 1)[0])
    try:
        spec = gym.spec(bare_id(env_id))
    except gym.error.Error as error:
        known = ", ".join(sorted(CLASSIC_CONTROL + MUJOCO + (GRIDWORLD, PIXEL_GRIDWORLD)))
        raise ValueError(f"unknown environment {env_id!r} ({error}); lfo-ray ships: {known}") from None
    if isinstance(spec.entry_point, str) and spec.entry_point.startswith("gymnasium.envs.mujoco"):
        _route_mujoco_warnings()
    return spec


def _route_mujoco_warnings() -> None:
    """Sends MuJoCo's warnings to Python's `warnings` (each message shown once per process).

    By default MuJoCo prints each one and appends it to MUJOCO_LOG.TXT in the working directory;
    gymnasium 1.2's half_cheetah.xml raises a deprecation warning ('settotalmass') under mujoco
    3.17 every time the env is made, which would leave that file in every run's directory.
    """
    import warnings

    import mujoco

    def warn(text: str) -> None:
        # Attributed to "mujoco" (the C library), not to this line; the registry shows each once.
        warnings.warn_explicit(f"MuJoCo: {text}", RuntimeWarning, "mujoco", 0, module="mujoco",
                               registry=_MUJOCO_WARNINGS_SHOWN)

    if mujoco.get_mju_user_warning() is None:
        mujoco.set_mju_user_warning(warn)


_MUJOCO_WARNINGS_SHOWN: dict = {}


def make_vector_env(env_id: str, num_envs: int, **env_kwargs) -> gym.vector.VectorEnv:
    """`num_envs` copies of `env_id`, batched.

    Environments with a native batched implementation use it, with that implementation's own
    autoreset mode: CartPole's, Acrobot's and MountainCar's reset a finished sub-env on the *next*
    step (that step ignores its action), GridWorld's in the same step. Others (the MuJoCo tasks
    among them: one MjData per copy, stepped in this process) run in a SyncVectorEnv
    that resets in the same step, the final observation in info["final_obs"] (mask "_final_obs").
    `lfo_ray.rollout.VectorDriver` turns either mode into clean transitions.
    """
    from gymnasium.vector import AutoresetMode

    spec = env_spec(env_id)
    if spec.vector_entry_point is not None:
        return gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point", **env_kwargs)
    return gym.make_vec(
        env_id, num_envs, vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **env_kwargs,
    )
