"""lfo_ray.nets: the one MLP builder and the one normaliser (vectors and whole images)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lfo_ray.nets import OBS_CLIP, Normalizer, adam, clip_grad_norm, tanh_mlp


def plain_stack(width_in, hidden, width_out, activation):
    widths = [width_in, *hidden]
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), activation()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], width_out))


@pytest.mark.parametrize("hidden", [(), (5,), (8, 6)])
def test_default_init_mlp_is_the_plain_linear_stack(hidden):
    # BCO's inverse model and the shipped experts were plain nn.Linear stacks: orthogonal=False must
    # draw the same weights from the same seed, and leave the generator where they left it.
    torch.manual_seed(3)
    expected, expected_next = plain_stack(4, hidden, 3, nn.ReLU), torch.rand(2)
    torch.manual_seed(3)
    built, built_next = tanh_mlp(4, hidden, 3, activation="relu", orthogonal=False), torch.rand(2)
    assert [type(m) for m in built] == [type(m) for m in expected]
    assert built.state_dict().keys() == expected.state_dict().keys()
    assert all(torch.equal(built.state_dict()[k], v) for k, v in expected.state_dict().items())
    assert torch.equal(built_next, expected_next)


def test_orthogonal_init_zeroes_biases_and_scales_the_output_layer():
    net = tanh_mlp(6, (16,), 4, out_gain=0.01)
    assert all(torch.count_nonzero(m.bias) == 0 for m in net if isinstance(m, nn.Linear))
    out = net[-1].weight
    assert torch.allclose(out @ out.T, 0.01 ** 2 * torch.eye(4), atol=1e-6)


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="activation must be one of"):
        tanh_mlp(2, (3,), 1, activation="gelu")


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


def test_adam_takes_the_reference_adam_step():
    """The fused kernel computes torch's reference Adam (two groups, eps, lr changed mid-run) up to rounding."""
    torch.manual_seed(0)
    start = [torch.randn(8, 4), torch.randn(4)]
    ours, reference = ([p.clone().requires_grad_() for p in start] for _ in range(2))
    fast = adam([{"params": ours[:1], "lr": 1e-2}, {"params": ours[1:], "lr": 1e-3}], 1e-2, eps=1e-5)
    slow = torch.optim.Adam([{"params": reference[:1], "lr": 1e-2}, {"params": reference[1:], "lr": 1e-3}],
                            lr=1e-2, eps=1e-5, foreach=False)
    assert fast.defaults["fused"]
    for step in range(50):
        grads = [torch.randn(p.shape) for p in start]
        for params, optimizer in ((ours, fast), (reference, slow)):
            if step == 25:
                optimizer.param_groups[0]["lr"] = 5e-3
            for p, g in zip(params, grads):
                p.grad = g.clone()
            optimizer.step()
    for a, b, s in zip(ours, reference, start):
        assert not torch.equal(a, s)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scale", [0.01, 1.0, 100.0])
def test_clip_grad_norm_is_torchs_to_the_bit(scale):
    """Below the limit the gradients stay as they are; above, they are scaled to it: exactly what
    torch.nn.utils.clip_grad_norm_ computes, so swapping it in changed no run."""
    torch.manual_seed(1)
    grads = [scale * torch.randn(64, 4), scale * torch.randn(64), scale * torch.randn(2, 64)]
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    reference = torch.nn.utils.clip_grad_norm_(params, 0.5, foreach=True)
    ours = [g.clone() for g in grads]
    total = clip_grad_norm(ours, 0.5)
    assert torch.equal(total, reference)
    assert all(torch.equal(a, p.grad) for a, p in zip(ours, params))
    if scale == 0.01:                           # a norm of ~0.2: left as it was
        assert all(torch.equal(a, g) for a, g in zip(ours, grads))
    assert torch.linalg.vector_norm(torch.cat([g.flatten() for g in ours])) <= 0.5 + 1e-6
