# ConvNeXt V2-Femto, the atto recipe (paper: 78.5 top-1). The official release trains femto and
# pico as atto; only the width changes.
_base_ = ['./convnextv2-atto_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'femto'
model = dict(backbone=dict(arch=arch), head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
