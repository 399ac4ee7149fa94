# ConvNeXt V2-Femto, the atto recipe (paper: 78.5 top-1). The official release trains femto and
# pico as atto; only the width changes.
_base_ = ['./convnextv2-atto_32xb32_in1k.py']
model = dict(backbone=dict(arch='femto'), head=dict(in_channels=384))
