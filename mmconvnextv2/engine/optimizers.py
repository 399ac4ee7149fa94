"""Layer-wise learning-rate decay for ConvNeXt V2, as the official fine-tuning code.

Registered in mmengine's root registry, so mmpretrain, mmdet and mmseg configs all find it:

    optim_wrapper = dict(
        optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
        constructor='ConvNeXtV2LayerDecayConstructor',
        paramwise_cfg=dict(layer_decay_rate=0.9, decay_type='single'))

Layer ids (``L`` = the largest):

* ``'single'``: every block its own id. ``downsample_layers.i`` and ``stages.i.j`` get
  ``sum(depths[:i]) + 1`` and ``sum(depths[:i]) + j + 1``; ``L = sum(depths)``.
* ``'group'`` (base and larger): 12 ids; stages 0 and 1 get 1 and 2 (their downsampling layers
  1 to 3), the blocks of stage 2 are grouped by three (``3 + j // 3``), stage 3 and its
  downsampling layer get 12; the stem 0. ``L = 12``.

Everything outside the backbone (heads, necks, the backbone's output norms) gets ``L + 1``.
The lr of id ``i`` is ``lr * rate ** (L + 1 - i)``. No weight decay on 1-D parameters (norms,
biases, GRN gamma and beta), on ``.bias`` and on ``no_decay_names`` (the mask token).
"""
import re
from typing import List, Optional

import torch
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS


def layer_id(name: str, depths: List[int], decay_type: str) -> int:
    """The layer id of backbone parameter ``name`` (without the ``backbone.`` prefix)."""
    total = sum(depths) if decay_type == 'single' else 12
    m = re.match(r'(downsample_layers|stages)\.(\d+)(?:\.(\d+))?', name)
    if m is None:
        return total + 1
    stage = int(m.group(2))
    if decay_type == 'single':
        if m.group(1) == 'downsample_layers':
            return sum(depths[:stage]) + 1
        return sum(depths[:stage]) + int(m.group(3)) + 1
    if m.group(1) == 'downsample_layers':
        return {0: 0, 1: 2, 2: 3, 3: 12}[stage]
    block = int(m.group(3))
    return {0: 1, 1: 2, 2: 3 + block // 3, 3: 12}[stage]


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ConvNeXtV2LayerDecayConstructor(DefaultOptimWrapperConstructor):
    """Optimizer wrapper constructor with layer-wise lr decay over a ConvNeXt V2 backbone.

    ``paramwise_cfg`` keys:

    * ``layer_decay_rate`` (float): the decay per layer id. Required.
    * ``decay_type`` (str): ``'single'`` or ``'group'``. Defaults to ``'single'``.
    * ``no_decay_names`` (list[str]): parameter-name substrings without weight decay, besides
      1-D parameters and biases. Defaults to ``['mask_token']``.
    * ``backbone_prefix`` (str): where the backbone sits in the model. Defaults to
      ``'backbone.'``.
    """

    def __call__(self, model: torch.nn.Module):
        if hasattr(model, 'module'):
            model = model.module
        cfg = dict(self.paramwise_cfg)
        if 'layer_decay_rate' not in cfg:
            raise ValueError('ConvNeXtV2LayerDecayConstructor needs '
                             'paramwise_cfg.layer_decay_rate')
        rate = cfg.pop('layer_decay_rate')
        decay_type = cfg.pop('decay_type', 'single')
        no_decay_names = cfg.pop('no_decay_names', ['mask_token'])
        prefix = cfg.pop('backbone_prefix', 'backbone.')
        if cfg:
            raise ValueError(f'unknown paramwise_cfg keys for layer decay: {sorted(cfg)}')
        if decay_type not in ('single', 'group'):
            raise ValueError(f"decay_type must be 'single' or 'group', got {decay_type!r}")
        backbone = model.get_submodule(prefix.rstrip('.'))
        depths = list(backbone.depths)
        if decay_type == 'group' and (len(depths) != 4 or depths[2] % 3):
            raise ValueError(f"decay_type='group' assumes 4 stages and a third stage of a "
                             f"multiple of 3 blocks (base and larger), got depths {depths}")
        total = sum(depths) if decay_type == 'single' else 12

        optimizer_cfg = self.optimizer_cfg.copy()
        wrapper_cfg = optimizer_cfg.pop('optim_wrapper', dict(type='OptimWrapper'))
        base_lr = optimizer_cfg['lr']
        base_wd = optimizer_cfg.get('weight_decay', 0.)
        groups = {}
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            lid = layer_id(name[len(prefix):], depths, decay_type) \
                if name.startswith(prefix) else total + 1
            no_decay = param.ndim == 1 or name.endswith('.bias') or \
                any(n in name for n in no_decay_names)
            key = (lid, no_decay)
            if key not in groups:
                scale = rate**(total + 1 - lid)
                groups[key] = dict(params=[], param_names=[], lr=base_lr * scale,
                                   lr_scale=scale, layer_id=lid,
                                   weight_decay=0. if no_decay else base_wd)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        param_groups = [groups[k] for k in sorted(groups)]
        print_log(f'layer decay ({decay_type}, rate {rate}): {len(param_groups)} parameter '
                  f'groups over {total + 2} layer ids', logger='current')
        optimizer_cfg['params'] = param_groups
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(wrapper_cfg, default_args=dict(optimizer=optimizer))

    @staticmethod
    def group_of(optimizer: torch.optim.Optimizer, name: str) -> Optional[dict]:
        """The parameter group holding parameter ``name`` (for inspection and tests)."""
        for group in optimizer.param_groups:
            if name in group.get('param_names', ()):
                return group
        return None
