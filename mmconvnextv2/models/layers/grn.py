"""Global Response Normalization (GRN), the layer that makes ConvNeXt V2, and the variants
and alternatives of the report's ablations (§4.3)."""
from typing import Optional

import torch
from torch import nn

AGGREGATIONS = ('l2', 'mean')
NORMALIZATIONS = ('divisive', 'standardize')


class GRN(nn.Module):
    """Global Response Normalization, on channels-last features.

    For each sample and channel, ``G(x)`` is the L2 norm of the channel over all spatial
    positions; ``N(x) = G(x) / (mean_c G(x) + eps)`` divides it by its mean over channels, and
    the layer returns ``x + gamma * (x * N(x)) + beta``. ``gamma`` and ``beta`` start at zero, so
    a fresh layer is the identity.

    Inputs are ``(N, *spatial, C)``: ``(N, H, W, C)`` for dense maps, ``(N, L, C)`` for the
    visible tokens of a masked image. With ``valid`` (broadcastable to ``(N, *spatial, 1)``,
    1 at visible positions), the statistics are taken over the visible positions only, per
    sample, so masked positions never influence visible ones.

    Args:
        channels (int): Number of channels C.
        eps (float): Added to the channel mean of ``G(x)``. Defaults to 1e-6.
        aggregation (str): ``'l2'`` (the paper) or ``'mean'`` (global average of ``|x|``
            over space), for the ablation. Defaults to 'l2'.
        normalization (str): ``'divisive'`` (the paper) or ``'standardize'`` (``(G - mean) /
            std`` over channels), for the ablation. Defaults to 'divisive'.
        residual (bool): Keep the ``+ x`` term; the ablation without it returns
            ``gamma * (x * N(x)) + beta`` (with gamma initialized to one so that it is not
            zero at start). Defaults to True.
    """

    def __init__(self,
                 channels: int,
                 eps: float = 1e-6,
                 aggregation: str = 'l2',
                 normalization: str = 'divisive',
                 residual: bool = True):
        super().__init__()
        if aggregation not in AGGREGATIONS:
            raise ValueError(f'GRN aggregation must be one of {AGGREGATIONS}, got '
                             f'{aggregation!r}')
        if normalization not in NORMALIZATIONS:
            raise ValueError(f'GRN normalization must be one of {NORMALIZATIONS}, got '
                             f'{normalization!r}')
        self.channels = channels
        self.eps = eps
        self.aggregation = aggregation
        self.normalization = normalization
        self.residual = residual
        self.gamma = nn.Parameter(torch.zeros(channels) if residual else torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        spatial_dims = tuple(range(1, x.ndim - 1))
        xv = x if valid is None else x * valid
        if self.aggregation == 'l2':
            gx = torch.linalg.vector_norm(xv, dim=spatial_dims, keepdim=True)  # (N, 1.., C)
        else:
            count = valid.sum(spatial_dims, keepdim=True) if valid is not None else \
                x[..., :1].numel() // x.shape[0]
            gx = xv.abs().sum(spatial_dims, keepdim=True) / count
        if self.normalization == 'divisive':
            nx = gx / (gx.mean(dim=-1, keepdim=True) + self.eps)
        else:
            nx = (gx - gx.mean(dim=-1, keepdim=True)) / (gx.std(dim=-1, keepdim=True) + self.eps)
        if not self.residual:
            return torch.addcmul(self.beta, x, self.gamma * nx)
        # gamma * (x * nx) + beta + x == x * (1 + gamma * nx) + beta: the per-channel scale is
        # small, so the full-size work is one fused multiply-add instead of three passes
        return torch.addcmul(self.beta, x, torch.addcmul(torch.ones_like(nx), self.gamma, nx))

    def extra_repr(self) -> str:
        extra = '' if (self.aggregation, self.normalization, self.residual) == (
            'l2', 'divisive', True) else \
            f', aggregation={self.aggregation}, normalization={self.normalization}, ' \
            f'residual={self.residual}'
        return f'{self.channels}, eps={self.eps}{extra}'


class ChannelsLastNorm(nn.Module):
    """BatchNorm, LayerNorm or local response normalization in GRN's place (channels-last
    input ``(N, *spatial, C)``; ``valid`` is ignored), for the report's comparison."""

    def __init__(self, kind: str, channels: int, size: int = 5):
        super().__init__()
        self.kind = kind
        if kind == 'BN':
            self.norm = nn.BatchNorm1d(channels)
        elif kind == 'LN':
            self.norm = nn.LayerNorm(channels, eps=1e-6)
        elif kind == 'LRN':
            self.norm = nn.LocalResponseNorm(size)
        else:
            raise ValueError(f'unknown normalization {kind!r}')

    def forward(self, x: torch.Tensor, valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.kind == 'LN':
            return self.norm(x)
        shape = x.shape
        if self.kind == 'BN':
            return self.norm(x.reshape(-1, shape[-1])).reshape(shape)
        y = self.norm(x.reshape(shape[0], -1, shape[-1]).transpose(1, 2))  # (N, C, L)
        return y.transpose(1, 2).reshape(shape)


MLP_NORMS = ('GRN', 'BN', 'LN', 'LRN')


def build_mlp_norm(cfg: Optional[dict], channels: int) -> Optional[nn.Module]:
    """The normalization after the block MLP's activation: ``dict(type='GRN', ...)`` (GRN
    options as keyword arguments), ``'BN'``, ``'LN'``, ``'LRN'``, or ``None`` for none."""
    if cfg is None:
        return None
    cfg = dict(cfg)
    kind = cfg.pop('type', 'GRN')
    if kind not in MLP_NORMS:
        raise ValueError(f'unknown grn_cfg type {kind!r}; choose from {MLP_NORMS} or None')
    if kind == 'GRN':
        return GRN(channels, **cfg)
    return ChannelsLastNorm(kind, channels, **cfg)
