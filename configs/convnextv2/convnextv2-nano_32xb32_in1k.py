# ConvNeXt V2-N (paper: 81.9 top-1). Paper Table 9: the atto recipe (blr 2e-4, wd 0.3, drop
# path 0.1, 600 epochs, no warm-up) with mixup 0.5 / cutmix 0.5 (TRAINING.md has no nano command).
_base_ = ['./convnextv2-atto_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'nano'
model = dict(
    backbone=dict(arch=arch),
    head=dict(in_channels=_convnextv2.channels_of(arch)[-1]),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.5), dict(type='CutMix', alpha=0.5)]),
)
