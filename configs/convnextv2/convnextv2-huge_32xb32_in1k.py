# ConvNeXt V2-H (paper: 86.3 top-1). Paper Table 11 for H: blr 1.25e-3, layer decay 0.75,
# 10 warm-up, 50 epochs, drop path 0.3; the rest as large (wd 0.05, mixup 0.8 / cutmix 1.0,
# smoothing 0.1, EMA 0.9999). Layer-wise ('single') decay: appendix A.2 and main_finetune.py
# group layers for Base and Large only. TRAINING.md has no huge command.
_base_ = ['./convnextv2-large_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'huge'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.3),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
optim_wrapper = dict(optimizer=dict(lr=1.25e-3 * 1024 / 256),
                     paramwise_cfg=dict(layer_decay_rate=0.75, decay_type='single'))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=10,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=50)
