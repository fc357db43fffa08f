"""The training loop's flat gradient buffer: the same clipping as torch, in fewer operations."""

import pytest
import torch
from torch import nn

from aekit.training.loop import Gradients


def two_layers(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))


def backward(module, scale):
    torch.manual_seed(1)
    x = torch.randn(32, 5)
    (module(x).pow(2).sum() * scale).backward()


@pytest.mark.parametrize("scale, clipped", [(1e-3, False), (1e3, True)])
def test_flat_clipping_equals_clip_grad_norm(scale, clipped):
    reference, flat = two_layers(), two_layers()
    backward(reference, scale)
    norm = nn.utils.clip_grad_norm_(reference.parameters(), 5.0)
    assert bool(norm > 5.0) is clipped
    gradients = Gradients(flat, torch.optim.Adam(flat.parameters()), flat=True)
    gradients.zero()
    backward(flat, scale)
    gradients.clip(5.0)
    for a, b in zip(reference.parameters(), flat.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-6, atol=1e-9)
    total = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in flat.parameters()]))
    assert float(total) <= 5.0 + 1e-4


def test_gradients_live_in_one_buffer_that_zero_clears_and_release_detaches():
    module = two_layers()
    gradients = Gradients(module, torch.optim.Adam(module.parameters()), flat=True)
    backward(module, 1.0)
    assert gradients.buffer is not None and gradients.buffer.abs().sum() > 0
    assert all(p.grad.data_ptr() >= gradients.buffer.data_ptr() for p in module.parameters())
    gradients.zero()
    assert all(float(p.grad.abs().sum()) == 0.0 for p in module.parameters())
    gradients.release()
    assert all(p.grad is None for p in module.parameters())


def test_without_a_flat_buffer_the_optimizer_zeroes_and_torch_clips():
    module = two_layers()
    gradients = Gradients(module, torch.optim.Adam(module.parameters()), flat=False)
    assert gradients.buffer is None
    backward(module, 1e3)
    gradients.clip(5.0)
    total = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in module.parameters()]))
    assert float(total) == pytest.approx(5.0, rel=1e-4)
    gradients.zero()
    assert all(p.grad is None for p in module.parameters())


def test_gradients_take_the_layout_of_channels_last_weights():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 8, 3).to(memory_format=torch.channels_last)
    reference = nn.Conv2d(3, 8, 3)
    reference.load_state_dict(conv.state_dict())
    gradients = Gradients(conv, torch.optim.Adam(conv.parameters()), flat=True)
    assert conv.weight.grad.stride() == conv.weight.stride()
    x = torch.randn(2, 3, 9, 9)
    gradients.zero()
    conv(x).square().sum().backward()
    reference(x).square().sum().backward()
    torch.testing.assert_close(conv.weight.grad, reference.weight.grad)
    # a fused optimizer walks weight and gradient as raw memory: layouts must agree
    optimizer = torch.optim.Adam(conv.parameters(), lr=0.1, fused=True)
    expected = torch.optim.Adam(reference.parameters(), lr=0.1, fused=True)
    optimizer.step()
    expected.step()
    torch.testing.assert_close(conv.weight.detach(), reference.weight.detach())
