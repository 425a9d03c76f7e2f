"""lfo_ray.nets: the one normaliser, on vectors and whole images."""

from __future__ import annotations

import pytest
import torch

from lfo_ray.nets import OBS_CLIP, Normalizer


def test_normalizer_fits_clips_and_inverts():
    x = torch.tensor([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    normalizer = Normalizer(2)
    normalizer.fit(x)
    # Population std, floored at min_std for the constant dimension.
    assert normalizer.mean.tolist() == [2.0, 5.0]
    assert normalizer(x)[:, 0].tolist() == pytest.approx([-1.2247, 0.0, 1.2247], abs=1e-4)
    assert normalizer(torch.tensor([[0.0, 6.0]]))[0, 1].item() == OBS_CLIP
    unclipped = Normalizer(2, clip=None)
    unclipped.fit(x)
    far = torch.tensor([[0.0, 6.0]])
    assert unclipped(far)[0, 1].item() == pytest.approx(1 / (1e-6 + 1e-8) ** 0.5, rel=1e-5)
    assert unclipped.unnormalize(unclipped(far))[0].tolist() == pytest.approx([0.0, 6.0])


def test_normalizer_keeps_image_shapes_and_maps_uint8_to_plus_minus_one():
    normalizer = Normalizer((4, 4, 3), clip=None, mean=127.5, std=127.5)
    images = torch.tensor([0, 255], dtype=torch.uint8).repeat_interleave(48).reshape(2, 4, 4, 3)
    out = normalizer(images)
    assert out.dtype == torch.float32 and out.shape == (2, 4, 4, 3)
    assert out[0].unique().tolist() == [-1.0] and out[1].unique().tolist() == [1.0]
    assert set(normalizer.state_dict()) == {"mean", "var", "count"}
