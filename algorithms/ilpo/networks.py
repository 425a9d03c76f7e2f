"""ILPO's networks: the latent policy network (LPN), the action remapping network (ARN), and the
acting policy built from both (`LatentActor`, the "ilpo" architecture of lfo_ray.policy).

The LPN and the ARN sit on one encoder/generator interface, chosen from the observation space:

    encoder(x)          -> list of layer outputs, the last one being the state features
    generator(layers)   -> (B, *obs_shape) predicted state change, decoded from `layers` whose
                           last entry is the features already mixed with a latent action

Vector observations use VectorEncoder / VectorGenerator (the reference's vector_ilpo.py: FC layers
with leaky ReLU 0.2). Image observations (H, W, C) uint8 use ConvEncoder / ConvGenerator, a small
pix2pix U-Net like the reference's image_ilpo.py. Observations pass through the LPN's
normaliser first (`obs_normalizer`: images to [-1, 1]; vectors optionally standardised), and every
prediction, loss and remapping distance lives in that normalised space.
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lfo_ray.learner import load_numpy_state
from lfo_ray.nets import Normalizer
from lfo_ray.policy import obs_tensor, register_architecture

LEAK = 0.2


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LEAK)


def is_image(space: gym.Space) -> bool:
    """Box (H, W, C) of uint8: an image. Other Boxes are vectors."""
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


def unsupported_spaces(observation_space: gym.Space, action_space: gym.Space) -> str | None:
    """Why ILPO cannot run with these spaces, or None (its AlgorithmSpec.supports)."""
    if not isinstance(action_space, gym.spaces.Discrete):
        return (f"ilpo needs a Discrete action space (its latent actions map to discrete ones), got "
                f"{action_space}: for continuous actions use bco or gaifo")
    if not isinstance(observation_space, gym.spaces.Box):
        return (f"ilpo needs Box observations (vectors or uint8 HxWxC images), got {observation_space}; "
                f"for the grid world use lfo_ray/PixelGridWorld-v0")
    if is_image(observation_space):
        height, width, _ = observation_space.shape
        if height % 8 or width % 8:
            return (f"ilpo's image observations need height and width divisible by 8 (three stride-2 "
                    f"convolutions), got {observation_space.shape}")
    return None


class VectorEncoder(nn.Module):
    """(B, *shape) -> [FC hidden, FC 2*hidden]; the reference's encoder_1, encoder_2."""

    def __init__(self, obs_dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(obs_dim, hidden)
        self.fc2 = nn.Linear(hidden, 2 * hidden)
        self.feature_shape = (2 * hidden,)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h1 = self.fc1(x.flatten(1))
        return [h1, self.fc2(lrelu(h1))]


class VectorGenerator(nn.Module):
    """Features (B, 2*hidden) -> FC hidden -> FC obs_dim; the reference's decoder_1, decoder_2."""

    def __init__(self, obs_shape: tuple[int, ...], hidden: int) -> None:
        super().__init__()
        self.obs_shape = obs_shape
        self.fc1 = nn.Linear(2 * hidden, hidden)
        self.fc2 = nn.Linear(hidden, int(np.prod(obs_shape)))

    def forward(self, layers: list[torch.Tensor]) -> torch.Tensor:
        out = self.fc2(lrelu(self.fc1(lrelu(layers[-1]))))
        return out.reshape(-1, *self.obs_shape)


def _down(c_in: int, c_out: int) -> nn.Conv2d:
    # 4x4 stride 2, padding 1 halves the size (the reference's conv()).
    return nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)


def _up(c_in: int, c_out: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)


class ConvEncoder(nn.Module):
    """(B, H, W, C) in [-1, 1] -> three stride-2 convs (c, 2c, 4c channels) and a last conv that
    covers the remaining H/8 x W/8 map, giving (B, 8c, 1, 1) features."""

    def __init__(self, obs_shape: tuple[int, int, int], channels: int) -> None:
        super().__init__()
        height, width, in_channels = obs_shape
        c = channels
        self.convs = nn.ModuleList([
            _down(in_channels, c), _down(c, 2 * c), _down(2 * c, 4 * c),
            nn.Conv2d(4 * c, 8 * c, (height // 8, width // 8)),
        ])
        self.feature_shape = (8 * c, 1, 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        layers = [self.convs[0](x.permute(0, 3, 1, 2))]
        for conv in self.convs[1:]:
            layers.append(conv(lrelu(layers[-1])))
        return layers


class ConvGenerator(nn.Module):
    """Mirror of ConvEncoder with U-Net skips: each decoder layer reads the previous one
    concatenated with the encoder layer of the same size. Returns (B, H, W, C)."""

    def __init__(self, obs_shape: tuple[int, int, int], channels: int) -> None:
        super().__init__()
        height, width, out_channels = obs_shape
        c = channels
        self.deconvs = nn.ModuleList([
            nn.ConvTranspose2d(8 * c, 4 * c, (height // 8, width // 8)),
            _up(2 * 4 * c, 2 * c), _up(2 * 2 * c, c), _up(2 * c, out_channels),
        ])

    def forward(self, layers: list[torch.Tensor]) -> torch.Tensor:
        out = self.deconvs[0](lrelu(layers[-1]))
        for deconv, skip in zip(self.deconvs[1:], reversed(layers[:-1])):
            out = deconv(lrelu(torch.cat([out, skip], dim=1)))
        return out.permute(0, 2, 3, 1)


def make_encoder(space: gym.spaces.Box, hidden: int, conv_channels: int) -> nn.Module:
    if is_image(space):
        return ConvEncoder(space.shape, conv_channels)
    return VectorEncoder(int(np.prod(space.shape)), hidden)


def make_generator(space: gym.spaces.Box, hidden: int, conv_channels: int) -> nn.Module:
    if is_image(space):
        return ConvGenerator(space.shape, conv_channels)
    return VectorGenerator(tuple(space.shape), hidden)


class LPNOutput(NamedTuple):
    deltas: torch.Tensor
    """(B, Z, *obs_shape) predicted state change s' - s for every latent action z."""
    latent_logits: torch.Tensor
    """(B, Z) logits of the latent policy pi(z|s)."""


class LatentPolicyNetwork(nn.Module):
    """E_p, pi(z|s) and G(E_p(s), z) of the paper (the reference's create_ilpo).

    The latent action enters as a dense embedding of one-hot(z), concatenated with the state
    features and mixed by one FC layer; that mix replaces the last encoder layer fed to the
    generator, so one generator serves every z. The FC layer on the concatenation [f; e_z] is
    computed as W_f f + W_e e_z (the same function), so the state half runs once per state
    instead of once per (state, latent) pair.
    """

    def __init__(self, normalizer: Normalizer, encoder: nn.Module, generator: nn.Module,
                 n_latent: int) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.encoder = encoder
        self.generator = generator
        self.n_latent = n_latent
        self.feature_shape = tuple(encoder.feature_shape)
        width = int(np.prod(self.feature_shape))
        self.policy_head = nn.Linear(width, n_latent)
        self.latent_embedding = nn.Linear(n_latent, width)
        self.mix_state = nn.Linear(width, width)
        self.mix_latent = nn.Linear(width, width, bias=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, F) encoding E_p(s) of normalised states x (the last encoder layer, flattened)."""
        return self.encoder(x)[-1].flatten(1)

    def latent_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.policy_head(lrelu(self.features(x)))

    def forward(self, x: torch.Tensor) -> LPNOutput:
        """Predictions for normalised states x = self.normalizer(obs)."""
        layers = self.encoder(x)
        batch, z = x.shape[0], self.n_latent
        features = lrelu(layers[-1].flatten(1))
        latents = lrelu(self.latent_embedding(torch.eye(z, device=x.device)))
        mixed = self.mix_state(features)[:, None] + self.mix_latent(latents)[None]
        mixed = mixed.reshape(batch * z, *self.feature_shape)
        # Row b*Z + k of the generator's batch is (state b, latent k).
        skips = [layer.repeat_interleave(z, dim=0) for layer in layers[:-1]]
        deltas = self.generator(skips + [mixed])
        return LPNOutput(deltas.reshape(batch, z, *x.shape[1:]), self.policy_head(features))


class ActionRemapNetwork(nn.Module):
    """pi_xi(a | s, z): its own encoder E_a(s) and a dense embedding of one-hot(z), concatenated,
    then FC 64 -> 32 -> real actions (the reference's action_remap_net)."""

    def __init__(self, encoder: nn.Module, n_latent: int, n_actions: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.n_latent = n_latent
        width = int(np.prod(encoder.feature_shape))
        self.latent_embedding = nn.Linear(n_latent, width)
        self.head = nn.Sequential(nn.Linear(2 * width, 64), nn.LeakyReLU(LEAK),
                                  nn.Linear(64, 32), nn.LeakyReLU(LEAK), nn.Linear(32, n_actions))

    def forward(self, x: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        """(B, n_actions) logits for normalised states x and latent actions `latent` (B,) int64."""
        features = lrelu(self.encoder(x)[-1].flatten(1))
        embedding = lrelu(self.latent_embedding(F.one_hot(latent, self.n_latent).float()))
        return self.head(torch.cat([features, embedding], dim=-1))


def obs_normalizer(space: gym.spaces.Box) -> Normalizer:
    """The LPN's input map, not clipped: images fixed to [-1, 1]; vectors the identity until the
    learner fits the demonstrations' statistics. Buffers, so the statistics travel with the LPN's
    weights to the acting policies and into checkpoints."""
    if is_image(space):
        return Normalizer(space.shape, clip=None, mean=127.5, std=127.5)
    return Normalizer(space.shape, clip=None)


def build_networks(observation_space: gym.spaces.Box, n_actions: int, n_latent: int, hidden: int,
                   conv_channels: int) -> tuple[LatentPolicyNetwork, ActionRemapNetwork]:
    lpn = LatentPolicyNetwork(obs_normalizer(observation_space), make_encoder(observation_space, hidden, conv_channels),
                              make_generator(observation_space, hidden, conv_channels), n_latent)
    arn = ActionRemapNetwork(make_encoder(observation_space, hidden, conv_channels), n_latent, n_actions)
    return lpn, arn


class LatentActor(nn.Module):
    """The deployed policy's logits: ARN(s, z*) with z* = argmax_z pi(z|s), from raw observations.
    The "ilpo" architecture of lfo_ray.policy."""

    def __init__(self, observation_space: gym.spaces.Box, action_space: gym.spaces.Discrete, *,
                 n_latent: int, hidden: int, conv_channels: int) -> None:
        super().__init__()
        unsupported = unsupported_spaces(observation_space, action_space)
        if unsupported is not None:
            raise ValueError(unsupported)
        self.lpn, self.arn = build_networks(observation_space, int(action_space.n), n_latent, hidden,
                                            conv_channels)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = self.lpn.normalizer(obs)
        return self.arn(x, self.lpn.latent_logits(x).argmax(-1))

    def set_weights(self, weights: dict[str, dict[str, np.ndarray]]) -> None:
        """Loads the learner's published weights {"lpn": state, "arn": state}."""
        load_numpy_state(self.lpn, weights["lpn"])
        load_numpy_state(self.arn, weights["arn"])


register_architecture("ilpo", LatentActor)


class ILPOPolicy:
    """Acts as the ARN phase prescribes: a = argmax_a ARN(s, argmax_z pi(z|s)) (`LatentActor`), and
    with probability `epsilon` a uniformly random action instead. epsilon=0 is the deployed policy.

    Built on CPU by rollout workers through functools.partial(ILPOPolicy, n_latent=..., ...);
    random draws use the action space's generator, which each worker seeds differently.
    """

    def __init__(self, observation_space: gym.spaces.Box, action_space: gym.spaces.Discrete, *,
                 n_latent: int, hidden: int, conv_channels: int, epsilon: float = 0.0) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.epsilon = epsilon
        self.net = LatentActor(observation_space, action_space, n_latent=n_latent, hidden=hidden,
                               conv_channels=conv_channels).eval()
        self.lpn, self.arn = self.net.lpn, self.net.arn

    def set_weights(self, weights: dict[str, dict[str, np.ndarray]]) -> None:
        self.net.set_weights(weights)

    @torch.no_grad()
    def latent_actions(self, obs: np.ndarray) -> np.ndarray:
        x = self.lpn.normalizer(obs_tensor(obs, self.observation_space))
        return self.lpn.latent_logits(x).argmax(-1).numpy()

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        actions = self.net(obs_tensor(obs, self.observation_space)).argmax(-1).numpy()
        if self.epsilon > 0:
            rng = self.action_space.np_random
            explore = rng.random(len(actions)) < self.epsilon
            actions = np.where(explore, rng.integers(int(self.action_space.n), size=len(actions)), actions)
        return actions
