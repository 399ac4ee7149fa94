"""FCMAE reconstruction pictures: original / masked input / reconstruction."""
import os
from typing import Optional, Sequence

import numpy as np
import torch

from ..models.heads.fcmae_head import patchify, unpatchify


def _to_uint8(imgs: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> np.ndarray:
    """Normalized ``(N, C, H, W)`` → ``(N, H, W, C)`` uint8 (grayscale shown as RGB)."""
    x = (imgs * std + mean).clamp(0, 255).round().byte()
    x = x.permute(0, 2, 3, 1).cpu().numpy()
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x[..., :3]


@torch.no_grad()
def reconstruction_grid(model, imgs: torch.Tensor, mean: Sequence[float],
                        std: Sequence[float], mask: Optional[torch.Tensor] = None,
                        gap: int = 4) -> np.ndarray:
    """An RGB uint8 grid, one row per image: original, masked input, reconstruction (the
    prediction at the masked patches, the visible patches pasted back).

    ``imgs`` are normalized model inputs ``(N, C, H, W)``; ``mean``/``std`` undo that
    normalization. Predictions of a ``norm_pix`` head are per-patch normalized, so they are
    mapped back with each target patch's own mean and variance, as MAE's visualization.
    """
    model.eval()
    out = model.reconstruct(imgs, mask)
    mask, pred = out['mask'], out['pred']
    N, C, H, W = imgs.shape
    p = model.patch_size
    grid = (H // p, W // p)
    pred = pred.flatten(2).transpose(1, 2)                       # (N, L, p*p*C)
    if getattr(model.head, 'norm_pix', False):
        target = patchify(imgs, p)
        pred = pred * (target.var(-1, keepdim=True) + model.head.eps)**.5 + \
            target.mean(-1, keepdim=True)
    pred = unpatchify(pred, p, grid, C)
    pixel_mask = mask.repeat_interleave(p, 1).repeat_interleave(p, 2).unsqueeze(1)
    pixel_mask = pixel_mask.to(imgs.dtype)
    mean_t = torch.tensor(mean, dtype=imgs.dtype).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=imgs.dtype).view(1, -1, 1, 1)
    grey = (torch.full_like(imgs, 127.) - mean_t) / std_t         # masked patches: grey
    masked = imgs * (1 - pixel_mask) + grey * pixel_mask
    pasted = imgs * (1 - pixel_mask) + pred * pixel_mask
    panels = [_to_uint8(t, mean_t, std_t) for t in (imgs, masked, pasted)]
    canvas = np.full((N * (H + gap) + gap, 3 * (W + gap) + gap, 3), 255, np.uint8)
    for i in range(N):
        for j, panel in enumerate(panels):
            y, x = gap + i * (H + gap), gap + j * (W + gap)
            canvas[y:y + H, x:x + W] = panel[i]
    return canvas


def save_png(image: np.ndarray, path: str) -> str:
    """Write an RGB uint8 array as a PNG, creating the folder."""
    from PIL import Image
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(image).save(path)
    return path
