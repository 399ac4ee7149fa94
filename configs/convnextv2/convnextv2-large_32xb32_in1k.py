# ConvNeXt V2-L (paper: 85.8 top-1). Derived recipe: the base recipe, 50 epochs, 10 warm-up,
# layer decay 0.7 'group', drop path 0.2 (deeper and wider than base: shorter schedule, more
# regularization, as the official large and huge runs).
_base_ = ['./convnextv2-base_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'large'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.2),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.7))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=10,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=50)
