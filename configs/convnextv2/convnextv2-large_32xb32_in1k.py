# ConvNeXt V2-L (paper: 85.8 top-1). Paper Table 11: the base recipe (100 epochs, 20 warm-up,
# layer decay 0.6 'group') with drop path 0.2. blr 6.25e-4 as base: Table 11 gives B and L one
# value, printed 6.25e-3, which the TRAINING.md base command corrects (it has no large command).
_base_ = ['./convnextv2-base_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'large'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.2),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
