"""ConvNeXt V2 (Woo et al., CVPR 2023): one backbone for dense and masked (sparse) execution.

The block is written once. ``forward(x, mask=None)`` runs it densely; with a patch mask
(``(N, h, w)``, 1 = masked) the same layers run through a sparse backend
(:mod:`mmconvnextv2.models.sparse`) that keeps masked positions out of every visible output,
as FCMAE pretraining needs.
"""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmengine.model import initialize
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch import nn

from ...checkpoint.io import load_pretrained
from ..layers import build_mlp_norm
from ..sparse import DenseExecution, SparseBackend, build_sparse_backend


class ConvNeXtV2Block(nn.Module):
    """ConvNeXt V2 block: 7x7 depthwise conv, LayerNorm, Linear 4x, GELU, GRN, Linear, drop path.

    Args:
        channels (int): Input and output channels.
        mlp_ratio (float): Hidden width of the MLP over ``channels``. Defaults to 4.
        drop_path_rate (float): Stochastic depth rate. Defaults to 0.
        use_grn (bool): Whether the MLP has GRN after its activation. Defaults to True.
        grn_cfg (dict, optional): What stands after the activation when ``use_grn``:
            ``dict(type='GRN')`` (default) with GRN's ablation options, or ``'BN'``, ``'LN'``,
            ``'LRN'`` in its place (see :func:`build_mlp_norm`).
        with_cp (bool): Gradient checkpointing of the block. Defaults to False.
    """

    def __init__(self,
                 channels: int,
                 mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.,
                 use_grn: bool = True,
                 grn_cfg: Optional[dict] = None,
                 with_cp: bool = False):
        super().__init__()
        hidden = int(mlp_ratio * channels)
        self.dwconv = nn.Conv2d(channels, channels, 7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.pwconv1 = nn.Linear(channels, hidden)
        self.act = nn.GELU()
        self.grn = build_mlp_norm(grn_cfg or dict(type='GRN'), hidden) if use_grn else None
        self.pwconv2 = nn.Linear(hidden, channels)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()
        self.with_cp = with_cp

    def mlp(self, x: torch.Tensor, valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The pointwise part, on channels-last features ``(N, *spatial, C)``."""
        x = self.act(self.pwconv1(self.norm(x)))
        if self.grn is not None:
            x = self.grn(x, valid)
        return self.pwconv2(x)

    def _forward(self, x, backend: SparseBackend):
        y = backend.spatial(self.dwconv, x)
        y = backend.pointwise(self.mlp, y)
        return x + self.drop_path(y)

    def forward(self, x, backend: Optional[SparseBackend] = None):
        backend = backend or DenseExecution()
        if self.with_cp and torch.is_grad_enabled() and x.requires_grad:
            return cp.checkpoint(self._forward, x, backend, use_reentrant=False)
        return self._forward(x, backend)


@MODELS.register_module()
class ConvNeXtV2(BaseBackbone):
    """ConvNeXt V2 backbone, dense or sparse (masked) execution.

    `ConvNeXt V2: Co-designing and Scaling ConvNets with Masked Autoencoders
    <https://arxiv.org/abs/2301.00808>`_. Stem 4x4/4 conv + LayerNorm, downsampling LayerNorm +
    2x2/2 conv, blocks with GRN and no layer scale. Weights follow the official layout
    (``downsample_layers``, ``stages``, ``dwconv``, ``pwconv1``, ``grn.gamma``...), so official,
    timm, Hugging Face and mmpretrain checkpoints convert with renames only
    (:mod:`mmconvnextv2.checkpoint`); ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``
    takes any of them as it is (:meth:`init_weights`).

    Args:
        arch (str | dict): One of :attr:`arch_settings` or a dict with ``depths`` and
            ``channels`` (sequences of the same length). Defaults to 'tiny'.
        in_channels (int): Input image channels. Defaults to 3.
        stem_patch_size (int): Kernel and stride of the stem conv. Defaults to 4.
        drop_path_rate (float): Stochastic depth rate, increasing linearly over the blocks to
            this value. Defaults to 0.
        use_grn (bool): Whether blocks have GRN (False gives the ablation without it).
            Defaults to True.
        grn_cfg (dict, optional): The GRN variant or its alternative, for the report's
            ablations: ``dict(type='GRN', aggregation='l2'|'mean',
            normalization='divisive'|'standardize', residual=True|False)``, or
            ``dict(type='BN'|'LN'|'LRN')`` in GRN's place. Defaults to the paper's GRN.
        out_indices (int | Sequence[int]): Stages whose outputs are returned. Defaults to -1.
        frozen_stages (int): Stages (with their downsampling layers) whose parameters are
            frozen and kept in eval mode; 0 freezes nothing. Defaults to 0.
        gap_before_final_norm (bool): Average-pool each output before its norm and return
            ``(N, C)`` vectors (classification), else return NCHW maps. Defaults to True.
        final_norm (bool): Add a LayerNorm to every output stage. FCMAE's encoder has none.
            Defaults to True.
        sparse_backend (str): How ``forward(x, mask)`` executes masked images: 'gather'
            (pointwise work on visible positions only), 'masked_dense' (the reference) or
            'minkowski' (MinkowskiEngine). Defaults to 'gather'.
        with_cp (bool): Gradient checkpointing of every block. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config; by default truncated
            normal (std .02) for conv and linear weights, as the official code.
    """
    arch_settings: Dict[str, Dict[str, Sequence[int]]] = {
        'atto': dict(depths=(2, 2, 6, 2), channels=(40, 80, 160, 320)),
        'femto': dict(depths=(2, 2, 6, 2), channels=(48, 96, 192, 384)),
        'pico': dict(depths=(2, 2, 6, 2), channels=(64, 128, 256, 512)),
        'nano': dict(depths=(2, 2, 8, 2), channels=(80, 160, 320, 640)),
        'tiny': dict(depths=(3, 3, 9, 3), channels=(96, 192, 384, 768)),
        'base': dict(depths=(3, 3, 27, 3), channels=(128, 256, 512, 1024)),
        'large': dict(depths=(3, 3, 27, 3), channels=(192, 384, 768, 1536)),
        'huge': dict(depths=(3, 3, 27, 3), channels=(352, 704, 1408, 2816)),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'tiny',
                 in_channels: int = 3,
                 stem_patch_size: int = 4,
                 drop_path_rate: float = 0.,
                 use_grn: bool = True,
                 grn_cfg: Optional[dict] = None,
                 out_indices: Union[int, Sequence[int]] = -1,
                 frozen_stages: int = 0,
                 gap_before_final_norm: bool = True,
                 final_norm: bool = True,
                 sparse_backend: str = 'gather',
                 with_cp: bool = False,
                 init_cfg: Optional[Union[dict, list]] = (
                     dict(type='TruncNormal', layer=['Conv2d', 'Linear'], std=.02, bias=0.),
                     dict(type='Constant', layer=['LayerNorm'], val=1., bias=0.),
                 )):
        super().__init__(init_cfg=list(init_cfg) if isinstance(init_cfg, tuple) else init_cfg)
        self.depths, self.channels = self._parse_arch(arch)
        self.num_stages = len(self.depths)
        if not 0 <= drop_path_rate < 1:
            raise ValueError(f'drop_path_rate must be in [0, 1), got {drop_path_rate}')
        if not 0 <= frozen_stages <= self.num_stages:
            raise ValueError(f'frozen_stages must be in [0, {self.num_stages}], '
                             f'got {frozen_stages}')
        from ..sparse import SPARSE_BACKENDS
        if sparse_backend not in SPARSE_BACKENDS:
            raise ValueError(f'unknown sparse_backend {sparse_backend!r}; choose from '
                             f'{SPARSE_BACKENDS}')
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        self.out_indices = []
        for index in out_indices:
            if not -self.num_stages <= index < self.num_stages:
                raise ValueError(f'out_indices {index} is out of range for '
                                 f'{self.num_stages} stages')
            self.out_indices.append(index % self.num_stages)
        self.stem_stride = stem_patch_size
        self.frozen_stages = frozen_stages
        self.gap_before_final_norm = gap_before_final_norm
        self.final_norm = final_norm
        self.sparse_backend = sparse_backend

        self.downsample_layers = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(in_channels, self.channels[0], stem_patch_size, stem_patch_size),
                nn.LayerNorm(self.channels[0], eps=1e-6))
        ])
        for i in range(1, self.num_stages):
            self.downsample_layers.append(
                nn.Sequential(
                    nn.LayerNorm(self.channels[i - 1], eps=1e-6),
                    nn.Conv2d(self.channels[i - 1], self.channels[i], 2, 2)))

        dpr = torch.linspace(0, drop_path_rate, sum(self.depths)).tolist()
        self.stages = nn.ModuleList()
        for i, (depth, channels) in enumerate(zip(self.depths, self.channels)):
            first = sum(self.depths[:i])
            self.stages.append(
                nn.ModuleList([
                    ConvNeXtV2Block(channels, drop_path_rate=dpr[first + j], use_grn=use_grn,
                                    grn_cfg=grn_cfg, with_cp=with_cp) for j in range(depth)
                ]))
            if final_norm and i in self.out_indices:
                self.add_module(f'norm{i}', nn.LayerNorm(channels, eps=1e-6))
        self._freeze_stages()

    @classmethod
    def _parse_arch(cls, arch):
        if isinstance(arch, str):
            if arch not in cls.arch_settings:
                raise ValueError(f'unknown ConvNeXt V2 arch {arch!r}; choose from '
                                 f'{sorted(cls.arch_settings)} or pass a dict with "depths" '
                                 f'and "channels"')
            arch = cls.arch_settings[arch]
        if not isinstance(arch, dict) or not {'depths', 'channels'} <= set(arch):
            raise ValueError(f'a custom arch must be a dict with "depths" and "channels", '
                             f'got {arch!r}')
        depths, channels = list(arch['depths']), list(arch['channels'])
        if len(depths) != len(channels) or not depths:
            raise ValueError(f'arch "depths" {depths} and "channels" {channels} must be '
                             f'non-empty and of the same length')
        return depths, channels

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None):
        """Features of ``x`` ``(N, C, H, W)``; with ``mask`` ``(N, h, w)`` (1 = masked), only
        the visible patches are encoded and outputs are zero at masked positions.

        Returns:
            tuple[Tensor]: for each of ``out_indices``, an ``(N, C_i, H/s_i, W/s_i)`` map
            (``s_i = 4 * 2**i``), or ``(N, C_i)`` with ``gap_before_final_norm``. Every map
            is contiguous NCHW, the OpenMMLab contract: the interior runs in channels-last
            memory, and compiled ops downstream (mmcv's ``RoIAlign``) read raw memory as
            NCHW, silently misreading any other layout.
        """
        if x.ndim != 4:
            raise ValueError(f'ConvNeXtV2 expects (N, C, H, W) images, got {tuple(x.shape)}')
        if mask is None:
            backend = DenseExecution()
        else:
            if mask.shape[0] != x.shape[0]:
                raise ValueError(f'mask batch {mask.shape[0]} != image batch {x.shape[0]}')
            backend = build_sparse_backend(self.sparse_backend, mask, self.stem_stride,
                                           x.shape[-2:], self.num_stages)
        stride = self.stem_stride * 2**(self.num_stages - 1)
        if x.shape[-1] < stride or x.shape[-2] < stride:
            raise ValueError(f'input {tuple(x.shape[-2:])} is smaller than the network '
                             f'stride {stride}')

        stem_conv, stem_norm = self.downsample_layers[0]
        x = backend.enter(stem_conv(x))
        x = backend.pointwise(lambda t, _: stem_norm(t), x)
        outs = []
        for i, stage in enumerate(self.stages):
            if i > 0:
                norm, conv = self.downsample_layers[i]
                x = backend.pointwise(lambda t, _: norm(t), x)
                x = backend.downsample(conv, x)
            for block in stage:
                x = block(x, backend)
            if i in self.out_indices:
                outs.append(self._output(i, x, backend, mask is not None).contiguous())
        return tuple(outs)

    def _output(self, i, x, backend, masked):
        if not self.final_norm:
            return backend.dense(x)
        norm = getattr(self, f'norm{i}')
        if self.gap_before_final_norm:
            if masked:
                raise ValueError('gap_before_final_norm with a mask would average masked '
                                 'positions; use gap_before_final_norm=False or no mask')
            return norm(x.mean((-2, -1)))
        # through the backend, so that LayerNorm's bias stays off masked positions
        return backend.dense(backend.pointwise(lambda t, _: norm(t), x))

    def init_weights(self):
        """Initialize the weights, and load them when ``init_cfg`` has a ``Pretrained`` entry.

        The checkpoint may be official, timm, Hugging Face, mmpretrain or ours, ``.pth`` or
        ``.safetensors``: it is recognized by its keys and converted in memory
        (:func:`~mmconvnextv2.checkpoint.io.load_pretrained`), where mmengine's ``Pretrained``
        init would read our own layout only. The other entries of ``init_cfg`` are applied
        first, as mmengine orders them; weights the checkpoint lacks keep their values.
        """
        init_cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        pretrained = [cfg for cfg in init_cfgs if isinstance(cfg, dict) and
                      cfg.get('type') == 'Pretrained']
        if not pretrained or self.is_init:
            super().init_weights()
            return
        initialize(self, [cfg for cfg in init_cfgs if cfg not in pretrained])
        for cfg in pretrained:
            load_pretrained(self, cfg['checkpoint'], prefix=cfg.get('prefix'))
        self.is_init = True

    def _freeze_stages(self):
        for i in range(self.frozen_stages):
            for module in (self.downsample_layers[i], self.stages[i]):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        return self


def channels_of(arch: Union[str, dict]) -> list:
    """Channels of each stage of ``arch``: what a neck or decode head of a config needs
    (``in_channels=channels_of(arch)``), read from the one arch table."""
    return list(ConvNeXtV2._parse_arch(arch)[1])
