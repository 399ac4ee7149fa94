# ConvNeXt V2-Pico, the atto recipe (paper: 80.3 top-1). The official release trains femto and
# pico as atto; only the width changes.
_base_ = ['./convnextv2-atto_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'pico'
model = dict(backbone=dict(arch=arch), head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
