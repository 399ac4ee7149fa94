"""The FCMAE decoder: projection, mask token, a few blocks, per-patch pixel prediction."""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from mmpretrain.models.utils import build_2d_sincos_position_embedding
from mmpretrain.registry import MODELS
from torch import nn

from ..backbones.convnextv2 import ConvNeXtV2Block
from ..heads.fcmae_head import patchify

DECODER_TYPES = ('convnext', 'transformer', 'unet')


@MODELS.register_module()
class FCMAENeck(BaseModule):
    """FCMAE decoder.

    The encoder's last map ``(N, C_in, h, w)`` (the patch grid) → 1x1 projection to
    ``embed_dim`` → learned mask token at the masked positions → ``depth`` decoder blocks →
    1x1 prediction of ``patch_size**2 * out_channels`` values per position, one patch each.

    ``decoder_type='unet'`` is the hierarchical baseline of the paper's decoder ablation: from
    the patch grid it upsamples stage by stage (2x2/2 transposed conv, ``depth`` ConvNeXt V2
    blocks per level, widths ``skip_channels``) to stride 4, optionally adding the (sparse)
    encoder map of each level (``skip=True``; masked positions take a per-level mask token),
    and predicts 4x4 pixels per stride-4 position, regrouped into patches.

    Args:
        in_channels (int): Encoder output channels. Defaults to 768 (tiny).
        embed_dim (int): Decoder width. Defaults to 512.
        depth (int): Number of decoder blocks. Defaults to 1.
        patch_size (int): Patch side in pixels. Defaults to 32.
        out_channels (int): Image channels to predict. Defaults to 3.
        decoder_type (str): 'convnext' (ConvNeXt V2 blocks, the paper's choice),
            'transformer' (ViT blocks over the latent grid with 2-D sin-cos positions) or
            'unet' (hierarchical), for the decoder ablation. Defaults to 'convnext'.
        num_heads (int): Attention heads of the transformer decoder. Defaults to 16.
        skip_channels (Sequence[int], optional): 'unet' only: the encoder's channels at
            strides 4, 8 and 16 (its stages 0-2), the widths of the upsampling levels.
        skip (bool): 'unet' only: add the encoder maps of each level. Defaults to True.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int = 768,
                 embed_dim: int = 512,
                 depth: int = 1,
                 patch_size: int = 32,
                 out_channels: int = 3,
                 decoder_type: str = 'convnext',
                 num_heads: int = 16,
                 skip_channels: Optional[Sequence[int]] = None,
                 skip: bool = True,
                 init_cfg: Optional[dict] = (
                     dict(type='TruncNormal', layer=['Conv2d', 'Linear'], std=.02, bias=0.),
                     dict(type='Constant', layer=['LayerNorm'], val=1., bias=0.),
                 )):
        super().__init__(init_cfg=list(init_cfg) if isinstance(init_cfg, tuple) else init_cfg)
        if decoder_type not in DECODER_TYPES:
            raise ValueError(f'unknown decoder_type {decoder_type!r}; choose from '
                             f'{DECODER_TYPES}')
        if depth < 1:
            raise ValueError(f'decoder depth must be >= 1, got {depth}')
        self.decoder_type = decoder_type
        self.patch_size = patch_size
        self.out_channels = out_channels
        self.skip = skip
        self.proj = nn.Conv2d(in_channels, embed_dim, 1)
        self.mask_token = nn.Parameter(torch.zeros(1, embed_dim, 1, 1))
        if decoder_type == 'convnext':
            self.decoder = nn.ModuleList([ConvNeXtV2Block(embed_dim) for _ in range(depth)])
        elif decoder_type == 'transformer':
            self.decoder = nn.ModuleList([
                TransformerEncoderLayer(embed_dim, num_heads, 4 * embed_dim)
                for _ in range(depth)
            ])
            self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        else:
            if not skip_channels or len(skip_channels) != 3:
                raise ValueError('the unet decoder needs skip_channels: the encoder channels '
                                 f'of its stages 0-2, got {skip_channels}')
            widths = [embed_dim] + list(skip_channels)[::-1]   # strides 32, 16, 8, 4
            self.decoder = nn.ModuleList([ConvNeXtV2Block(embed_dim) for _ in range(depth)])
            self.up = nn.ModuleList(
                [nn.ConvTranspose2d(widths[i], widths[i + 1], 2, 2) for i in range(3)])
            self.up_blocks = nn.ModuleList([
                nn.Sequential(*[ConvNeXtV2Block(w) for _ in range(depth)])
                for w in widths[1:]
            ])
            if skip:
                self.level_mask_tokens = nn.ParameterList(
                    [nn.Parameter(torch.zeros(1, w, 1, 1)) for w in widths[1:]])
            self.pred = nn.Conv2d(widths[-1], 16 * out_channels, 1)
            return
        self.pred = nn.Conv2d(embed_dim, patch_size**2 * out_channels, 1)

    def init_weights(self):
        super().init_weights()
        nn.init.normal_(self.mask_token, std=.02)
        for token in getattr(self, 'level_mask_tokens', []):
            nn.init.normal_(token, std=.02)

    @staticmethod
    def _fill(x: torch.Tensor, mask: torch.Tensor, token: torch.Tensor) -> torch.Tensor:
        """``token`` at the masked positions of ``x`` (mask upsampled to ``x``'s grid)."""
        scale = x.shape[-1] // mask.shape[-1]
        m = mask.repeat_interleave(scale, 1).repeat_interleave(scale, 2).unsqueeze(1)
        m = m.type_as(x)
        return x * (1. - m) + token.to(x.dtype) * m

    def forward(self, feats: Union[torch.Tensor, Tuple[torch.Tensor, ...]],
                mask: torch.Tensor) -> torch.Tensor:
        """Encoder outputs (a map, or the tuple of stage maps, last = patch grid ``(h, w)``)
        and ``mask`` (N, h, w), 1 = masked → predictions (N, p*p*C, h, w)."""
        feats = (feats, ) if isinstance(feats, torch.Tensor) else tuple(feats)
        latent = feats[-1]
        if latent.shape[-2:] != mask.shape[-2:]:
            raise ValueError(f'latent grid {tuple(latent.shape[-2:])} != mask grid '
                             f'{tuple(mask.shape[-2:])}')
        x = self._fill(self.proj(latent), mask, self.mask_token)
        if self.decoder_type == 'transformer':
            N, C, h, w = x.shape
            tokens = x.flatten(2).transpose(1, 2)   # (N, h*w, C)
            pos = build_2d_sincos_position_embedding((h, w), C, cls_token=False)
            tokens = tokens + pos.to(tokens)
            for block in self.decoder:
                tokens = block(tokens)
            return self.pred(self.norm(tokens).transpose(1, 2).reshape(N, C, h, w))
        for block in self.decoder:
            x = block(x)
        if self.decoder_type == 'convnext':
            return self.pred(x)
        # unet: strides 32 -> 16 -> 8 -> 4, then 4x4 pixels per position
        if self.skip and len(feats) < 4:
            raise ValueError('the unet decoder with skip needs the encoder maps of all four '
                             'stages: set the backbone out_indices=(0, 1, 2, 3)')
        for level, (up, blocks) in enumerate(zip(self.up, self.up_blocks)):
            x = up(x)
            if self.skip:
                x = x + self._fill(feats[-2 - level], mask, self.level_mask_tokens[level])
            x = blocks(x)
        pixels = F.pixel_shuffle(self.pred(x), 4)   # (N, C, H, W)
        N, _, h, w = latent.shape
        return patchify(pixels, self.patch_size).transpose(1, 2).reshape(N, -1, h, w)
