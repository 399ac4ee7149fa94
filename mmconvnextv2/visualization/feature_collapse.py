"""The report's feature-collapse analysis (§4.2): per-layer feature cosine distance, and
activation-map grids.

For one layer's activations of one image, each channel's map is a vector ``X_i``; the
distance is the mean over pairs ``i != j`` of ``1 - cos(X_i, X_j)``: 0 when every channel is
the same map (collapse), 1 when they are orthogonal. It is averaged over the images.
We read each block's MLP at the input of its second linear layer, i.e. after GRN (or after the
activation in a model without GRN), where the report observes the collapse.
"""
from typing import Dict, List

import numpy as np
import torch


def channel_cosine_distance(feats: torch.Tensor) -> float:
    """``feats`` ``(N, C, *spatial)`` → mean pairwise cosine distance between channels."""
    x = feats.flatten(2).float()                              # (N, C, P)
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    cos = x @ x.transpose(1, 2)                               # (N, C, C)
    C = cos.shape[-1]
    off_diagonal = cos.sum((1, 2)) - cos.diagonal(dim1=1, dim2=2).sum(-1)
    return float((1 - off_diagonal / (C * (C - 1))).mean())


@torch.no_grad()
def block_activations(backbone, imgs: torch.Tensor) -> List[torch.Tensor]:
    """The MLP activations (``(N, C_hidden, H, W)``) of every block, in depth order."""
    acts, hooks = [], []
    for stage in backbone.stages:
        for block in stage:
            hooks.append(block.pwconv2.register_forward_pre_hook(
                lambda m, args: acts.append(args[0].permute(0, 3, 1, 2).detach().cpu())))
    try:
        backbone.eval()
        backbone(imgs)
    finally:
        for h in hooks:
            h.remove()
    return acts


def feature_collapse(backbone, imgs: torch.Tensor) -> List[float]:
    """Cosine distance per block (depth order)."""
    return [channel_cosine_distance(a) for a in block_activations(backbone, imgs)]


def activation_grid(act: torch.Tensor, channels: int = 16, cell: int = 32) -> np.ndarray:
    """The first ``channels`` maps of one image's activation ``(C, H, W)`` as a uint8 grid,
    each map min-max scaled."""
    import cv2
    maps = act[:channels].float().numpy()
    cols = int(np.ceil(np.sqrt(len(maps))))
    rows = int(np.ceil(len(maps) / cols))
    grid = np.full((rows * (cell + 2), cols * (cell + 2)), 255, np.uint8)
    for k, m in enumerate(maps):
        m = (m - m.min()) / (np.ptp(m) + 1e-12)
        m = cv2.resize((m * 255).astype(np.uint8), (cell, cell),
                       interpolation=cv2.INTER_NEAREST)
        r, c = divmod(k, cols)
        grid[r * (cell + 2):r * (cell + 2) + cell, c * (cell + 2):c * (cell + 2) + cell] = m
    return grid


def plot_distances(curves: Dict[str, List[float]], path: str) -> str:
    """Cosine distance against block depth, one line per model, saved as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, marker='o', label=label)
    ax.set_xlabel('block (depth)')
    ax.set_ylabel('feature cosine distance')
    ax.set_ylim(0, 1)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
