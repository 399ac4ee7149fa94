# ConvNeXt V2-Pico, the atto recipe (paper: 80.3 top-1). The official release trains femto and
# pico as atto; only the width changes.
_base_ = ['./convnextv2-atto_32xb32_in1k.py']
model = dict(backbone=dict(arch='pico'), head=dict(in_channels=512))
