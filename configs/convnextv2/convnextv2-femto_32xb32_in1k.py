# ConvNeXt V2-F (paper: 78.5 top-1). Paper Table 9: the atto recipe with wd 0.05, mixup 0.3 /
# cutmix 0.3 and drop path 0.0 (TRAINING.md has no femto command).
_base_ = ['./convnextv2-atto_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'femto'
model = dict(
    backbone=dict(arch=arch, drop_path_rate=0.0),
    head=dict(in_channels=_convnextv2.channels_of(arch)[-1]),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.3), dict(type='CutMix', alpha=0.3)]),
)
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
