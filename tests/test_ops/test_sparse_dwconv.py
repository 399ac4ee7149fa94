"""The compiled sparse depthwise convolution (mmconvnextv2._ext) against the dense one."""
import pytest
import torch
from torch import nn

from mmconvnextv2.models import random_patch_mask
from mmconvnextv2.models.sparse import build_sparse_backend
from mmconvnextv2.ops import (
    neighbour_table,
    ops_available,
    ops_import_error,
    sparse_depthwise_conv,
    sparse_dwconv_applies,
)

pytestmark = pytest.mark.skipif(not ops_available(),
                                reason=f'mmconvnextv2._ext not built: {ops_import_error()}')


def random_visible(N, H, W, ratio=0.6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(N, H, W, generator=g) >= ratio


def dense_reference(tokens, visible, rows, conv):
    """Scatter the tokens into a zero map, convolve it densely, read the visible outputs."""
    N, H, W = visible.shape
    C = tokens.shape[1]
    grid = tokens.new_zeros(N * H * W, C).index_copy(0, rows, tokens)
    out = conv(grid.view(N, H, W, C).permute(0, 3, 1, 2))
    return out.permute(0, 2, 3, 1).reshape(N * H * W, C).index_select(0, rows)


def test_neighbour_table_by_hand():
    # one 3x3 image; visible: (0,0) (0,1) (1,1) (2,2); kernel 3
    visible = torch.tensor([[[1, 1, 0], [0, 1, 0], [0, 0, 1]]], dtype=torch.bool)
    rows = visible.flatten().nonzero()[:, 0]
    nbr = neighbour_table(visible, rows, 3)
    expected = torch.tensor([
        # offsets (-1,-1) (-1,0) (-1,1) (0,-1) (0,0) (0,1) (1,-1) (1,0) (1,1)
        [-1, -1, -1, -1, 0, 1, -1, -1, 2],  # (0,0)
        [-1, -1, -1, 0, 1, -1, -1, 2, -1],  # (0,1)
        [0, 1, -1, -1, 2, -1, -1, -1, 3],  # (1,1)
        [2, -1, -1, -1, 3, -1, -1, -1, -1],  # (2,2)
    ])
    assert torch.equal(nbr, expected)


@pytest.mark.parametrize('C, k, bias', [(8, 7, True), (5, 3, False), (19, 5, True),
                                        (96, 7, True)])
def test_equals_the_dense_convolution(C, k, bias):
    """Outputs and every gradient equal the scattered dense convolution's (fp32); odd channel
    counts exercise the loops' tails."""
    torch.manual_seed(0)
    visible = random_visible(3, 9, 11)
    rows = visible.flatten().nonzero()[:, 0]
    conv = nn.Conv2d(C, C, k, padding=k // 2, groups=C, bias=bias)
    x = torch.randn(rows.numel(), C, requires_grad=True)
    nbr = neighbour_table(visible, rows, k)
    assert sparse_dwconv_applies(conv, x)
    outs = [dense_reference(x, visible, rows, conv), sparse_depthwise_conv(x, nbr, conv)]
    grad = torch.randn_like(outs[0])
    params = [x, conv.weight] + ([conv.bias] if bias else [])
    grads = [torch.autograd.grad(out, params, grad) for out in outs]
    torch.testing.assert_close(outs[1], outs[0], rtol=1e-5, atol=1e-5)
    for name, a, b in zip(['x', 'weight', 'bias'], grads[1], grads[0]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-4, msg=lambda m: f'd/d{name}: {m}')


def op_inputs(dtype, seed=1):
    visible = random_visible(2, 5, 4, ratio=0.4, seed=seed)
    rows = visible.flatten().nonzero()[:, 0]
    nbr = neighbour_table(visible, rows, 3)
    x = torch.randn(rows.numel(), 3, dtype=dtype, requires_grad=True)
    weight = torch.randn(9, 3, dtype=dtype, requires_grad=True)  # (k * k, C)
    bias = torch.randn(3, dtype=dtype, requires_grad=True)
    return x, nbr, weight, bias


def test_gradcheck_float64():
    x, nbr, weight, bias = op_inputs(torch.float64)
    op = torch.ops.mmconvnextv2.sparse_dwconv
    assert torch.autograd.gradcheck(lambda x, w, b: op(x, nbr, w, b), (x, weight, bias))


def test_opcheck():
    """torch.library's checks of the registration: schema, fake (meta) implementation and
    autograd, as torch.compile relies on them."""
    torch.library.opcheck(torch.ops.mmconvnextv2.sparse_dwconv.default, op_inputs(torch.float32))
    x, nbr, _, _ = op_inputs(torch.float32)
    torch.library.opcheck(torch.ops.mmconvnextv2.sparse_dwconv_weight_grad.default,
                          (torch.randn_like(x), x.detach(), nbr))


def test_masked_rows_are_never_read():
    """Values at masked positions cannot reach the output: they are not in the tokens, and
    the table points only at visible rows."""
    visible = random_visible(2, 8, 8, seed=3)
    rows = visible.flatten().nonzero()[:, 0]
    nbr = neighbour_table(visible, rows, 7)
    assert ((nbr >= -1) & (nbr < rows.numel())).all()
    flat = visible.flatten()
    N, H, W = visible.shape
    target = torch.where(nbr >= 0, rows[nbr.clamp_min(0)], -1)
    assert flat[target[target >= 0]].all()


@pytest.mark.parametrize('conv, dtype', [
    (nn.Conv2d(4, 4, 7, padding=3, groups=4), torch.bfloat16),
    (nn.Conv2d(4, 4, 7, padding=3, groups=2), torch.float32),  # not depthwise
    (nn.Conv2d(4, 4, 7, padding=3, groups=4, stride=2), torch.float32),
    (nn.Conv2d(4, 4, 7, padding=6, groups=4, dilation=2), torch.float32),
    (nn.Conv2d(4, 4, 6, padding=3, groups=4), torch.float32),  # even kernel
    (nn.Conv2d(4, 4, 7, padding=3, groups=4, padding_mode='reflect'), torch.float32),
])
def test_other_convolutions_do_not_apply(conv, dtype):
    assert not sparse_dwconv_applies(conv.to(dtype), torch.zeros(5, 4, dtype=dtype))


def test_bad_neighbour_table_is_refused():
    conv = nn.Conv2d(4, 4, 3, padding=1, groups=4)
    x = torch.randn(5, 4)
    nbr = torch.full((5, 9), -1, dtype=torch.long)
    nbr[2, 3] = 5
    with pytest.raises(RuntimeError, match=r'nbr holds rows outside \[-1, 5\)'):
        sparse_depthwise_conv(x, nbr, conv)
    with pytest.raises(RuntimeError, match='nbr must be a contiguous int64'):
        sparse_depthwise_conv(x, nbr[:4], conv)


def test_gather_backend_uses_it_and_agrees_with_the_dense_path(monkeypatch):
    """'gather' runs the 7x7 depthwise convolution through the operator (no dense map), and
    gives what 'gather_dense_conv' gives."""
    import mmconvnextv2.models.sparse.base as base
    calls = []
    monkeypatch.setattr(base, 'sparse_depthwise_conv',
                        lambda *a: calls.append(1) or sparse_depthwise_conv(*a))
    mask = random_patch_mask(2, 2, 3, 0.5, generator=torch.Generator().manual_seed(0))
    conv = nn.Conv2d(6, 6, 7, padding=3, groups=6)
    x = torch.randn(2, 6, 16, 24)
    outs = []
    for name in ('gather', 'gather_dense_conv'):
        backend = build_sparse_backend(name, mask, 4, (64, 96), 2)
        outs.append(backend.dense(backend.spatial(conv, backend.enter(x))))
    assert calls == [1]
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
