# ConvNeXt V2-P (paper: 80.3 top-1). Paper Table 9: the femto recipe (mixup 0.3 / cutmix 0.3,
# drop path 0.0) with atto's wd 0.3 (TRAINING.md has no pico command).
_base_ = ['./convnextv2-femto_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'pico'
model = dict(backbone=dict(arch=arch), head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
optim_wrapper = dict(optimizer=dict(weight_decay=0.3))
