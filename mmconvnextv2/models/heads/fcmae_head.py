"""The FCMAE loss: mean squared error on the masked patches only."""
import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


def patchify(imgs: torch.Tensor, patch_size: int) -> torch.Tensor:
    """``(N, C, H, W)`` → ``(N, h*w, p*p*C)``, each patch ordered (row, column, channel)."""
    N, C, H, W = imgs.shape
    p = patch_size
    h, w = H // p, W // p
    x = imgs.reshape(N, C, h, p, w, p)
    x = torch.einsum('nchpwq->nhwpqc', x)
    return x.reshape(N, h * w, p * p * C)


def unpatchify(x: torch.Tensor, patch_size: int, grid: tuple, channels: int) -> torch.Tensor:
    """Inverse of :func:`patchify`: ``(N, h*w, p*p*C)`` → ``(N, C, h*p, w*p)``."""
    N = x.shape[0]
    (h, w), p = grid, patch_size
    x = x.reshape(N, h, w, p, p, channels)
    x = torch.einsum('nhwpqc->nchpwq', x)
    return x.reshape(N, channels, h * p, w * p)


@MODELS.register_module()
class FCMAEHead(BaseModule):
    """Masked-patch pixel reconstruction loss.

    Args:
        patch_size (int): Patch side in pixels. Defaults to 32.
        in_channels (int): Image channels. Defaults to 3.
        norm_pix (bool): Normalize each target patch by its mean and (unbiased) variance, as
            MAE's ``norm_pix_loss``. Defaults to True.
        eps (float): Added to the variance. Defaults to 1e-6.
    """

    def __init__(self, patch_size: int = 32, in_channels: int = 3, norm_pix: bool = True,
                 eps: float = 1e-6, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.norm_pix = norm_pix
        self.eps = eps

    def target(self, imgs: torch.Tensor) -> torch.Tensor:
        """Per-patch targets ``(N, L, p*p*C)``."""
        target = patchify(imgs, self.patch_size)
        if self.norm_pix:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + self.eps)**.5
        return target

    def loss(self, pred: torch.Tensor, imgs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``pred`` (N, p*p*C, h, w), ``imgs`` (N, C, h*p, w*p), ``mask`` (N, h, w), 1 = masked."""
        N, C, H, W = imgs.shape
        p = self.patch_size
        if C != self.in_channels:
            raise ValueError(f'images have {C} channels, the head expects {self.in_channels}')
        if pred.shape != (N, p * p * C, H // p, W // p):
            raise ValueError(f'prediction {tuple(pred.shape)} does not match images '
                             f'{tuple(imgs.shape)} with {p}-px patches '
                             f'(expected {(N, p * p * C, H // p, W // p)})')
        pred = pred.flatten(2).transpose(1, 2)       # (N, L, p*p*C)
        loss = (pred - self.target(imgs)).pow(2).mean(dim=-1)  # (N, L), per patch
        mask = mask.flatten(1).type_as(loss)
        return (loss * mask).sum() / mask.sum()     # mean over the masked patches
