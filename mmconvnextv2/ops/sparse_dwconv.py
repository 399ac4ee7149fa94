"""Depthwise convolution over visible positions only (submanifold semantics), on the CPU.

The features are tokens ``(M, C)``, one row per visible position. A neighbour table ``(M, K)``
gives, for each row and each of the ``K = k * k`` kernel offsets (row-major), the row of the
visible position there, or -1 where it is masked or outside the image. Then

    y[r] = bias + sum_k w[k] * x[nbr[r, k]]

is the ``k x k`` depthwise convolution (zero padding, stride 1) of the map that is ``x`` at
the visible positions and zero elsewhere, read at the visible positions: exactly what the
gather backend computed by scattering the tokens into a zero map, convolving it densely and
gathering the visible outputs, with none of the work at masked positions. Its gradients are
the same operator: ``dL/dx = sum_k w[K-1-k] * g[nbr[:, k]]`` (the opposite offset) and
``dL/dw[k] = sum_r g[r] * x[nbr[r, k]]``.

The operator is a ``torch.library`` custom op (``mmconvnextv2::sparse_dwconv``) with a fake
implementation and a registered backward, so ``torch.compile`` traces through it.
"""
from typing import Optional

import torch
from torch import Tensor, nn

try:
    from mmconvnextv2 import _ext
    _IMPORT_ERROR: Optional[BaseException] = None
except ImportError as e:  # not built: the callers take their pure-PyTorch paths
    _ext = None
    _IMPORT_ERROR = e


def ops_available() -> bool:
    """Whether the compiled operators (``mmconvnextv2._ext``) are importable."""
    return _ext is not None


def ops_import_error() -> Optional[BaseException]:
    """Why ``mmconvnextv2._ext`` could not be imported (``None`` if it was)."""
    return _IMPORT_ERROR


@torch.library.custom_op('mmconvnextv2::sparse_dwconv', mutates_args=())
def _sparse_dwconv(x: Tensor, nbr: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
    return _ext.sparse_dwconv_forward(x, nbr, weight, bias)


@_sparse_dwconv.register_fake
def _(x, nbr, weight, bias):
    return torch.empty_like(x)


@torch.library.custom_op('mmconvnextv2::sparse_dwconv_weight_grad', mutates_args=())
def _sparse_dwconv_weight_grad(grad: Tensor, x: Tensor, nbr: Tensor) -> Tensor:
    return _ext.sparse_dwconv_weight_grad(grad, x, nbr)


@_sparse_dwconv_weight_grad.register_fake
def _(grad, x, nbr):
    return x.new_empty(nbr.shape[1], x.shape[1])


def _setup_context(ctx, inputs, output):
    x, nbr, weight, bias = inputs
    ctx.save_for_backward(x, nbr, weight)
    ctx.has_bias = bias is not None


def _backward(ctx, grad):
    x, nbr, weight = ctx.saved_tensors
    grad = grad.contiguous()
    grad_x = grad_w = grad_b = None
    if ctx.needs_input_grad[0]:
        grad_x = _sparse_dwconv(grad, nbr, weight.flip(0).contiguous(), None)
    if ctx.needs_input_grad[2]:
        grad_w = _sparse_dwconv_weight_grad(grad, x, nbr)
    if ctx.has_bias and ctx.needs_input_grad[3]:
        grad_b = grad.sum(0)
    return grad_x, None, grad_w, grad_b


_sparse_dwconv.register_autograd(_backward, setup_context=_setup_context)


def sparse_dwconv_applies(conv: nn.Module, x: Tensor) -> bool:
    """Whether :func:`sparse_depthwise_conv` computes ``conv`` on the tokens ``x``: the
    operators are built, ``x`` is a float32/float64 CPU tensor, and ``conv`` is a plain
    depthwise ``k x k`` convolution (odd ``k``, stride 1, 'same' zero padding, no hooks)."""
    if _ext is None or x.device.type != 'cpu' or x.dtype not in (torch.float32, torch.float64):
        return False
    if type(conv) is not nn.Conv2d or conv._forward_hooks or conv._forward_pre_hooks:
        return False
    k = conv.kernel_size[0]
    return (conv.groups == conv.in_channels == conv.out_channels == x.shape[-1]
            and tuple(conv.kernel_size) == (k, k) and k % 2 == 1
            and tuple(conv.stride) == (1, 1) and tuple(conv.dilation) == (1, 1)
            and tuple(conv.padding) == (k // 2, k // 2) and conv.padding_mode == 'zeros'
            and conv.weight.dtype == x.dtype)


def sparse_depthwise_conv(tokens: Tensor, nbr: Tensor, conv: nn.Conv2d) -> Tensor:
    """``conv`` (see :func:`sparse_dwconv_applies`) on the ``(M, C)`` tokens with the
    neighbour table ``nbr`` from :func:`neighbour_table`; returns ``(M, C)``."""
    if _ext is None:
        raise RuntimeError(f'mmconvnextv2._ext is not built ({_IMPORT_ERROR}); reinstall with '
                           f'`make install` (torch importable at build time)')
    C = conv.in_channels
    weight = conv.weight.reshape(C, -1).t().contiguous()  # (K, C), offsets row-major
    return _sparse_dwconv(tokens.contiguous(), nbr, weight, conv.bias)


def neighbour_table(visible: Tensor, rows: Tensor, kernel_size: int) -> Tensor:
    """The ``(M, k * k)`` neighbour table of the visible positions.

    Args:
        visible (Tensor): ``(N, H, W)`` bool, True at visible positions.
        rows (Tensor): ``(M,)`` the flat positions (in ``N * H * W``) of the tokens, in token
            order.
        kernel_size (int): Odd ``k``.

    Returns:
        Tensor: int64 ``(M, k * k)``: for token ``r`` and offset ``(i, j)`` of the kernel
        (``i * k + j``, centre ``k // 2``), the token at that offset, or -1 where the position
        is masked or outside the image.
    """
    N, H, W = visible.shape
    device = rows.device
    token_of = torch.full((N * H * W, ), -1, dtype=torch.long, device=device)
    token_of[rows] = torch.arange(rows.numel(), device=device)
    n, pos = rows // (H * W), rows % (H * W)
    h, w = pos // W, pos % W
    d = torch.arange(kernel_size, device=device) - kernel_size // 2
    hh = h[:, None] + d.repeat_interleave(kernel_size)
    ww = w[:, None] + d.repeat(kernel_size)
    inside = (hh >= 0) & (hh < H) & (ww >= 0) & (ww < W)
    src = n[:, None] * (H * W) + hh.clamp(0, H - 1) * W + ww.clamp(0, W - 1)
    return torch.where(inside, token_of[src], -1).contiguous()
