"""How the ConvNeXt V2 encoder runs on a masked image.

A *sparse backend* holds the mask of one forward pass and carries the encoder's features in
its own representation. The encoder's layers are written once; they ask the backend for the
two kinds of work they do:

* ``pointwise(fn, x)``: ``fn`` maps channels-last features ``(N, *spatial, C)`` to the same
  layout (LayerNorm, the block MLP with GRN). It is called as ``fn(features, valid)``; ``valid``
  is ``None`` when the features hold visible positions only, else a ``(N, *spatial, 1)`` map
  that is 1 at visible positions, for the per-sample GRN statistics.
* ``spatial(conv, x)``: a convolution (the 7x7 depthwise one, the 2x2/2 downsampling one),
  with submanifold semantics: outputs exist at visible positions only, and inputs at masked
  positions are zero, so nothing at a masked position reaches a visible one.

The mask convention is MAE's: ``mask`` is ``(N, h, w)`` on the patch grid, 1 = masked (removed),
0 = visible (kept). Every sample keeps the same number of patches.
"""
from typing import Callable, List, Optional

import torch
from torch import nn

from ...ops import neighbour_table, sparse_depthwise_conv, sparse_dwconv_applies

PointwiseFn = Callable[[torch.Tensor, Optional[torch.Tensor]], torch.Tensor]


class SparseBackend:
    """Base class: the mask at every stage resolution, and the interface the encoder uses.

    Args:
        mask (Tensor): ``(N, h, w)`` patch mask, 1 = masked.
        stem_stride (int): Stride of the stem; stage ``i`` has stride ``stem_stride * 2**i``.
        image_size (tuple[int, int]): ``(H, W)`` of the input images.
        num_stages (int): Number of encoder stages.
    """

    name = ''

    def __init__(self, mask: torch.Tensor, stem_stride: int, image_size, num_stages: int):
        if mask.ndim != 3:
            raise ValueError(f'mask must be (N, h, w) on the patch grid, got shape '
                             f'{tuple(mask.shape)}')
        H, W = image_size
        h, w = mask.shape[-2:]
        if H % h or W % w or H // h != W // w:
            raise ValueError(f'mask grid {h}x{w} does not tile the {H}x{W} image into square '
                             f'patches')
        patch = H // h
        total_stride = stem_stride * 2**(num_stages - 1)
        if patch % total_stride:
            raise ValueError(f'patch size {patch} (image {H}x{W}, mask {h}x{w}) must be a '
                             f'multiple of the encoder stride {total_stride}, or masked '
                             f'patches would share positions with visible ones')
        visible = (mask == 0)
        counts = visible.flatten(1).sum(1)
        if counts.numel() and (counts != counts[0]).any():
            raise ValueError(f'every sample must keep the same number of patches, got '
                             f'{counts.tolist()}')
        if counts.numel() and counts[0] == 0:
            raise ValueError('the mask hides every patch; nothing is left to encode')
        # visible[i]: (N, H_i, W_i) bool at the resolution of stage i
        self.visible: List[torch.Tensor] = []
        for i in range(num_stages):
            scale = patch // (stem_stride * 2**i)
            self.visible.append(
                visible.repeat_interleave(scale, 1).repeat_interleave(scale, 2))
        self.stage = 0

    # The interface used by the encoder ------------------------------------------------------
    def enter(self, x: torch.Tensor) -> torch.Tensor:
        """Take the dense stem output ``(N, C, H/4, W/4)`` into the backend's representation."""
        raise NotImplementedError

    def pointwise(self, fn: PointwiseFn, x):
        raise NotImplementedError

    def spatial(self, conv: nn.Conv2d, x):
        """Same-resolution convolution with submanifold semantics."""
        raise NotImplementedError

    def downsample(self, conv: nn.Conv2d, x):
        """Strided convolution into the next stage's resolution."""
        raise NotImplementedError

    def dense(self, x) -> torch.Tensor:
        """The current features as an NCHW map, zero at masked positions."""
        raise NotImplementedError


class DenseExecution(SparseBackend):
    """No mask: plain dense execution. The representation is an NCHW map in channels-last
    memory format, so that the blocks' channels-last views (LayerNorm, the MLP, GRN) are
    contiguous and the permutes around them cost nothing."""

    name = 'dense'

    def __init__(self):
        self.stage = 0

    def enter(self, x):
        return x.contiguous(memory_format=torch.channels_last)

    def pointwise(self, fn, x):
        return fn(x.permute(0, 2, 3, 1), None).permute(0, 3, 1, 2)

    def spatial(self, conv, x):
        return conv(x)

    def downsample(self, conv, x):
        self.stage += 1
        return conv(x)

    def dense(self, x):
        return x


class MaskedDenseBackend(SparseBackend):
    """The reference: dense operations, with zeros re-imposed at masked positions.

    The representation is an NCHW map that is zero at masked positions after every operation;
    GRN statistics use ``valid`` so that the values a pointwise op leaves at masked positions
    (LayerNorm's bias, say) never enter them. It does all the dense work.
    """

    name = 'masked_dense'

    def _valid(self, x: torch.Tensor) -> torch.Tensor:
        return self.visible[self.stage].unsqueeze(-1).to(x.dtype)  # (N, H, W, 1)

    def enter(self, x):
        return x * self._valid(x).permute(0, 3, 1, 2)

    def pointwise(self, fn, x):
        valid = self._valid(x)
        return (fn(x.permute(0, 2, 3, 1), valid) * valid).permute(0, 3, 1, 2)

    def spatial(self, conv, x):
        return conv(x) * self._valid(x).permute(0, 3, 1, 2)

    def downsample(self, conv, x):
        self.stage += 1
        return self.spatial(conv, x)

    def dense(self, x):
        return x


class _GatherRows(torch.autograd.Function):
    """``rows[index]`` for distinct row indices; backward copies the gradient rows back into
    a zero map (no accumulation: the indices are distinct), faster than ``index_add``."""

    @staticmethod
    def forward(ctx, rows: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.num_rows = rows.shape[0]
        return rows.index_select(0, index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        index, = ctx.saved_tensors
        out = grad.new_zeros(ctx.num_rows, grad.shape[1])
        return out.index_copy_(0, index, grad.contiguous()), None


class _ScatterRows(torch.autograd.Function):
    """A ``(num_rows, C)`` zero map with ``tokens`` at the distinct rows ``index``."""

    @staticmethod
    def forward(ctx, tokens: torch.Tensor, index: torch.Tensor, num_rows: int) -> torch.Tensor:
        ctx.save_for_backward(index)
        out = tokens.new_zeros(num_rows, tokens.shape[1])
        return out.index_copy_(0, index, tokens)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        index, = ctx.saved_tensors
        return grad.index_select(0, index), None, None


class GatherBackend(SparseBackend):
    """Work on the visible positions only.

    The representation is ``(N, L, C)``: the features of the ``L`` visible positions of each
    sample, in row-major order. LayerNorm, the MLP and GRN run on these tokens alone (with 60%
    of the patches masked, 40% of the dense work); so do the k x k / k downsampling
    convolutions (a linear layer over each output's block of tokens).

    The 7x7 depthwise convolution runs on the tokens too, through the compiled CPU operator
    :func:`mmconvnextv2.ops.sparse_depthwise_conv` (a neighbour table per stage: each visible
    position reads its visible neighbours, nothing is computed at masked positions). Where
    that does not apply (the operators are not built, a GPU, bf16, another kind of
    convolution) a convolution scatters the tokens into a zero map, runs densely, and gathers
    the visible outputs back. The map is channels-last, so that scatter and gather move whole
    rows of ``C`` channels (``index_copy`` and ``index_select`` on an ``(N*H*W, C)`` view: on
    a CPU 10x faster than ``scatter`` and ``gather`` along the positions of an
    ``(N, H*W, C)`` tensor). Both give the same outputs and gradients (tested).
    """

    name = 'gather'
    #: whether a depthwise convolution uses the compiled sparse operator where it applies
    sparse_dwconv = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._neighbours = {}  # (stage, kernel size) -> (N * L, k * k) neighbour table
        # index[i]: (N, L_i) flat positions of the visible pixels of each sample at stage i;
        # rows[i]: (N * L_i,) their rows in the (N*H_i*W_i, C) map
        self.index, self.rows = [], []
        for v in self.visible:
            N, H, W = v.shape
            index = v.flatten(1).nonzero()[:, 1].view(N, -1)
            offset = torch.arange(N, device=v.device).unsqueeze(1) * (H * W)
            self.index.append(index)
            self.rows.append((index + offset).flatten())

    def _gather(self, x_nchw: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x_nchw.shape
        rows = x_nchw.permute(0, 2, 3, 1).reshape(N * H * W, C)  # a view if channels-last
        return _GatherRows.apply(rows, self.rows[self.stage]).view(N, -1, C)

    def dense(self, x):
        N, L, C = x.shape
        H, W = self.visible[self.stage].shape[1:]
        out = _ScatterRows.apply(x.reshape(N * L, C), self.rows[self.stage], N * H * W)
        return out.view(N, H, W, C).permute(0, 3, 1, 2)

    def enter(self, x):
        return self._gather(x)

    def pointwise(self, fn, x):
        return fn(x, None)

    def spatial(self, conv, x):
        if self.sparse_dwconv and sparse_dwconv_applies(conv, x):
            N, L, C = x.shape
            key = (self.stage, conv.kernel_size[0])
            if key not in self._neighbours:
                self._neighbours[key] = neighbour_table(self.visible[self.stage],
                                                        self.rows[self.stage], key[1])
            y = sparse_depthwise_conv(x.reshape(N * L, C), self._neighbours[key], conv)
            return y.view(N, L, C)
        return self._gather(conv(self.dense(x)))

    def downsample(self, conv, x):
        if not self._is_blockwise(conv):
            y = conv(self.dense(x))
            self.stage += 1
            return self._gather(y)
        # A k x k / k convolution reads one k x k block per output, and a block is all
        # visible or all masked (patches are multiples of the encoder stride): on the visible
        # outputs it is a linear layer over their blocks' tokens (space-to-depth), with no
        # work on the masked positions.
        N, L, C = x.shape
        blocks = self._blocks(conv.kernel_size[0])  # (N * L_next, k * k) token rows
        self.stage += 1
        tokens = _GatherRows.apply(x.reshape(N * L, C), blocks.flatten())
        weight = conv.weight.permute(0, 2, 3, 1).reshape(conv.out_channels, -1)
        out = torch.nn.functional.linear(tokens.view(blocks.shape[0], -1), weight, conv.bias)
        return out.view(N, -1, conv.out_channels)

    def _is_blockwise(self, conv: nn.Module) -> bool:
        """Whether ``conv`` is a plain k x k / k convolution that maps this stage's grid onto
        the next one block by block (anything else runs densely)."""
        if type(conv) is not nn.Conv2d or conv._forward_hooks or conv._forward_pre_hooks:
            return False
        k = conv.kernel_size[0]
        (H, W), (H2, W2) = (v.shape[1:] for v in self.visible[self.stage:self.stage + 2])
        return (tuple(conv.kernel_size) == tuple(conv.stride) == (k, k)
                and tuple(conv.dilation) == (1, 1) and tuple(conv.padding) == (0, 0)
                and conv.groups == 1 and (H, W) == (k * H2, k * W2))

    def _blocks(self, k: int) -> torch.Tensor:
        """For each visible position of the next stage, the token rows (of this stage's
        ``(N * L, C)`` tokens) of its k x k input block, in the kernel's row-major order."""
        H, W = self.visible[self.stage].shape[1:]
        H2, W2 = self.visible[self.stage + 1].shape[1:]
        N = self.visible[self.stage].shape[0]
        rows = self.rows[self.stage]
        token_of = torch.full((N * H * W, ), -1, dtype=torch.long, device=rows.device)
        token_of[rows] = torch.arange(rows.numel(), device=rows.device)
        out = self.rows[self.stage + 1]
        n, pos = out // (H2 * W2), out % (H2 * W2)
        h, w = pos // W2 * k, pos % W2 * k
        dh = torch.arange(k, device=rows.device).repeat_interleave(k)
        dw = torch.arange(k, device=rows.device).repeat(k)
        src = (n[:, None] * (H * W) + (h[:, None] + dh) * W + (w[:, None] + dw))
        return token_of[src]


class GatherDenseConvBackend(GatherBackend):
    """The gather backend in pure PyTorch: every same-resolution convolution scatters the
    tokens into a zero map, runs densely and gathers the visible outputs (what ``'gather'``
    does where the compiled operator does not apply). The reference for the operator and for
    the benchmark."""

    name = 'gather_dense_conv'
    sparse_dwconv = False
