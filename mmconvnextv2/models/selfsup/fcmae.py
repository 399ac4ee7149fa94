"""FCMAE: the fully convolutional masked autoencoder of ConvNeXt V2.

Mask convention (as MAE): ``mask`` is ``(N, h, w)`` on the patch grid, 0 = keep (visible),
1 = remove (masked). Every sample keeps the same number of patches.

    imgs (N, C, H, W)
      -> mask (N, H/p, W/p)                       random, ``mask_ratio`` of the patches removed
      -> encoder: ConvNeXtV2(imgs, mask)          sparse: sees only visible pixels
         latent (N, C_enc, H/32, W/32)            zero at masked positions
      -> neck: proj, mask token, decoder blocks   (N, p*p*C, H/p, W/p) pixel predictions
      -> head: MSE on the masked patches only
"""
from typing import Dict, List, Optional

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


def random_patch_mask(batch: int, grid_h: int, grid_w: int, mask_ratio: float,
                      device=None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """A random ``(batch, grid_h, grid_w)`` mask, 1 = masked, with exactly
    ``L - int(L * (1 - mask_ratio))`` patches masked in every sample (``L = grid_h * grid_w``)."""
    if not 0 < mask_ratio < 1:
        raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
    num_patches = grid_h * grid_w
    len_keep = int(num_patches * (1 - mask_ratio))
    if len_keep < 1 or len_keep >= num_patches:
        raise ValueError(f'mask_ratio {mask_ratio} on a {grid_h}x{grid_w} patch grid keeps '
                         f'{len_keep} of {num_patches} patches; at least one patch must be '
                         f'kept and one masked')
    noise = torch.rand(batch, num_patches, device=device, generator=generator)
    ids_shuffle = noise.argsort(dim=1)
    mask = torch.ones(batch, num_patches, device=device)
    mask.scatter_(1, ids_shuffle[:, :len_keep], 0.)
    return mask.view(batch, grid_h, grid_w)


@MODELS.register_module()
class FCMAE(BaseSelfSupervisor):
    """Fully convolutional masked autoencoder (`ConvNeXt V2
    <https://arxiv.org/abs/2301.00808>`_).

    Args:
        backbone (dict): The sparse encoder, a ``ConvNeXtV2`` with ``final_norm=False`` (it
            receives the mask as ``backbone(imgs, mask)``).
        neck (dict): The decoder, :class:`FCMAENeck`.
        head (dict): The loss, :class:`FCMAEHead`.
        mask_ratio (float): Fraction of patches removed, in (0, 1). Defaults to 0.6.
        patch_size (int): Side of a masked patch in pixels; equal to the encoder's total
            stride (32), since each encoder output position predicts one patch. Defaults to 32.
        data_preprocessor (dict, optional): Defaults to ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 mask_ratio: float = 0.6,
                 patch_size: int = 32,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if not 0 < mask_ratio < 1:
            raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
        super().__init__(backbone=backbone, neck=neck, head=head,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        stride = getattr(self.backbone, 'stem_stride', 4) * 2**(
            getattr(self.backbone, 'num_stages', 4) - 1)
        if patch_size != stride:
            raise ValueError(f'patch_size {patch_size} must equal the encoder stride {stride}: '
                             f'each encoder output position predicts one patch')
        self.mask_ratio = mask_ratio
        self.patch_size = patch_size

    def check_input(self, imgs: torch.Tensor) -> None:
        """Images must be ``(N, C, H, W)`` with H and W multiples of the patch size."""
        if imgs.ndim != 4:
            raise ValueError(f'FCMAE expects (N, C, H, W) images, got {tuple(imgs.shape)}')
        H, W = imgs.shape[-2:]
        if H % self.patch_size or W % self.patch_size:
            raise ValueError(f'image size {H}x{W} is not a multiple of the patch size '
                             f'{self.patch_size}; crop or resize to a multiple')

    def random_mask(self, imgs: torch.Tensor) -> torch.Tensor:
        """``(N, H/p, W/p)`` random mask for ``imgs``, 1 = masked."""
        self.check_input(imgs)
        H, W = imgs.shape[-2:]
        return random_patch_mask(imgs.shape[0], H // self.patch_size, W // self.patch_size,
                                 self.mask_ratio, device=imgs.device)

    def reconstruct(self, imgs: torch.Tensor, mask: Optional[torch.Tensor] = None) -> Dict:
        """Encode the visible patches and predict all pixels.

        Returns:
            dict: ``mask`` (N, h, w), ``pred`` (N, p*p*C, h, w) raw predictions, and ``loss``.
        """
        if mask is None:
            mask = self.random_mask(imgs)
        else:
            self.check_input(imgs)
        feats = self.backbone(imgs, mask)          # last: (N, C_enc, H/32, W/32)
        pred = self.neck(feats, mask)              # (N, p*p*C, H/p, W/p)
        loss = self.head.loss(pred, imgs, mask)
        return dict(mask=mask, pred=pred, loss=loss)

    def loss(self, inputs, data_samples: List[DataSample], **kwargs) -> Dict[str, torch.Tensor]:
        """The masked-patch reconstruction loss of a batch."""
        imgs = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return dict(loss=self.reconstruct(imgs)['loss'])

    def extract_feat(self, inputs: torch.Tensor):
        """Dense features of the encoder (no mask)."""
        return self.backbone(inputs)
