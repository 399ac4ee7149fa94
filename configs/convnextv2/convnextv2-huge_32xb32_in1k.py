# ConvNeXt V2-H (paper: 86.3 top-1). Derived recipe: the large recipe with drop path 0.3.
_base_ = ['./convnextv2-large_32xb32_in1k.py']
model = dict(backbone=dict(arch='huge', drop_path_rate=0.3), head=dict(in_channels=2816))
