# ConvNeXt V2-N (paper: 81.9 top-1). Derived recipe: the atto recipe (600 epochs, layer decay
# 0.9 'single', drop path 0.1) with tiny's learning rate and weight decay (blr 8e-4, wd 0.05),
# since nano sits between them in size.
_base_ = ['./convnextv2-atto_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'nano'
model = dict(backbone=dict(arch=arch), head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
optim_wrapper = dict(optimizer=dict(lr=8e-4 * 1024 / 256, weight_decay=0.05))
