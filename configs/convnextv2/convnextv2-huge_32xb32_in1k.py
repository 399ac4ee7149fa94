# ConvNeXt V2-H (paper: 86.3 top-1). Derived recipe: the large recipe with drop path 0.3.
_base_ = ['./convnextv2-large_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'huge'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.3),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
