"""Global Response Normalization (GRN), the layer that makes ConvNeXt V2."""
from typing import Optional

import torch
from torch import nn


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
    """

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        spatial_dims = tuple(range(1, x.ndim - 1))
        gx = torch.linalg.vector_norm(x if valid is None else x * valid, dim=spatial_dims,
                                      keepdim=True)  # (N, 1.., C)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + self.eps)
        # gamma * (x * nx) + beta + x == x * (1 + gamma * nx) + beta: the per-channel scale is
        # small, so the full-size work is one fused multiply-add instead of three passes
        return torch.addcmul(self.beta, x, torch.addcmul(torch.ones_like(nx), self.gamma, nx))

    def extra_repr(self) -> str:
        return f'{self.channels}, eps={self.eps}'
