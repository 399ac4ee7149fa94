"""The MinkowskiEngine backend: convolutions on sparse tensors of the visible positions.

Imported only when ``sparse_backend='minkowski'`` is chosen. Pointwise work is the gather
backend's (``(N, L, C)`` tokens of the visible positions); the depthwise 7x7 convolution is a
``MinkowskiChannelwiseConvolution`` and the downsampling one a strided
``MinkowskiConvolution``, both run with the weights of the model's dense ``nn.Conv2d`` layers
(so one checkpoint serves every backend, and gradients reach those weights).
"""
from typing import Dict, Tuple

import torch
from torch import nn
from torch.func import functional_call

from .base import GatherBackend

try:
    import MinkowskiEngine as ME
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sparse_backend='minkowski' needs MinkowskiEngine 0.5.4, which is not installed "
        "here. Install it with `make install-minkowski` (a CPU build; see "
        "tools/install/build_minkowski.sh), or use sparse_backend='gather'.") from e


def dense_to_minkowski_kernel(weight: torch.Tensor) -> torch.Tensor:
    """An ``nn.Conv2d`` weight as a MinkowskiEngine kernel (inverse of the official remap).

    ``(C, 1, k, k)`` depthwise → ``(k*k, C)``; ``(C_out, C_in, k, k)`` → ``(k*k, C_in, C_out)``.
    """
    c_out, c_in, k, _ = weight.shape
    w = weight.transpose(3, 2).reshape(c_out, c_in, k * k)
    if c_in == 1:
        return w[:, 0].permute(1, 0)
    return w.permute(2, 1, 0)


class MinkowskiBackend(GatherBackend):
    """Submanifold sparse convolutions with MinkowskiEngine (see the module docstring)."""

    name = 'minkowski'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._modules: Dict[Tuple, nn.Module] = {}
        self._maps = {}  # stage -> (coordinate map key, ME row order -> ours, ours -> ME)
        self._manager = None

    def _module(self, conv: nn.Conv2d) -> nn.Module:
        """A MinkowskiEngine layer of ``conv``'s shape (its own weights are never used)."""
        c_out, c_in_per_group, k, _ = conv.weight.shape
        key = (conv.groups > 1, conv.in_channels, c_out, k, conv.stride[0])
        if key not in self._modules:
            if conv.groups > 1:
                if conv.groups != conv.in_channels or c_out != conv.in_channels:
                    raise ValueError('only depthwise grouped convolutions are supported')
                module = ME.MinkowskiChannelwiseConvolution(c_out, kernel_size=k,
                                                            stride=conv.stride[0], bias=True,
                                                            dimension=2)
            else:
                module = ME.MinkowskiConvolution(conv.in_channels, c_out, kernel_size=k,
                                                 stride=conv.stride[0], bias=True, dimension=2)
            self._modules[key] = module.to(conv.weight.device)
        return self._modules[key]

    def _order(self, coords: torch.Tensor, stage: int):
        """Permutations between MinkowskiEngine's row order and ours (row-major per sample)."""
        H, W = self.visible[stage].shape[1:]
        stride = 2**stage
        c = coords.long()
        flat = c[:, 0] * (H * W) + (c[:, 1] // stride) * W + c[:, 2] // stride
        to_ours = flat.argsort()
        if not torch.equal(flat[to_ours], self.rows[stage]):
            raise RuntimeError(f'MinkowskiEngine produced other active sites than the mask at '
                               f'stage {stage}')
        return to_ours, to_ours.argsort()

    def enter(self, x):
        tokens = super().enter(x)
        N, L, C = tokens.shape
        H, W = self.visible[0].shape[1:]
        index = self.index[0]
        batch = torch.arange(N, device=index.device)[:, None].expand(N, L)
        coords = torch.stack([batch, index // W, index % W], -1).reshape(-1, 3).int()
        st = ME.SparseTensor(tokens.reshape(-1, C), coordinates=coords.to(tokens.device))
        self._manager = st.coordinate_manager
        self._maps[0] = (st.coordinate_map_key, *self._order(st.C, 0))
        return tokens

    def _run(self, conv: nn.Conv2d, x: torch.Tensor) -> ME.SparseTensor:
        N, L, C = x.shape
        key, to_ours, to_me = self._maps[self.stage]
        st = ME.SparseTensor(x.reshape(-1, C)[to_me], coordinate_map_key=key,
                             coordinate_manager=self._manager)
        params = {'kernel': dense_to_minkowski_kernel(conv.weight).contiguous(),
                  'bias': conv.bias}
        return functional_call(self._module(conv), params, (st, ))

    def spatial(self, conv, x):
        out = self._run(conv, x)
        key, to_ours, _ = self._maps[self.stage]
        if out.coordinate_map_key != key:
            raise RuntimeError('a stride-1 convolution changed the active sites')
        return out.F[to_ours].view(x.shape[0], x.shape[1], -1)

    def downsample(self, conv, x):
        out = self._run(conv, x)
        self.stage += 1
        to_ours, to_me = self._order(out.C, self.stage)
        self._maps[self.stage] = (out.coordinate_map_key, to_ours, to_me)
        return out.F[to_ours].view(x.shape[0], -1, out.F.shape[1])
