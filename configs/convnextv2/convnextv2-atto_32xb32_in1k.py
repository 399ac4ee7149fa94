# ConvNeXt V2-A (paper: 76.7 top-1). Paper Table 9, as the TRAINING.md atto command: blr 2e-4,
# wd 0.3, layer decay 0.9 ('single'), no warm-up, 600 epochs, smoothing 0.2, no mixup/cutmix,
# drop path 0.1. The rest as tiny (Tables 9 and 10 agree): batch 1024, RandAug (9, 0.5),
# head init 0.001, EMA 0.9999, random erasing 0.25 (TRAINING.md).
_base_ = ['./convnextv2-tiny_32xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'atto'
model = dict(
    backbone=dict(arch=arch, drop_path_rate=0.1),
    head=dict(in_channels=_convnextv2.channels_of(arch)[-1], loss=dict(label_smooth_val=0.2)),
    train_cfg=dict(_delete_=True, augments=None),
)
optim_wrapper = dict(optimizer=dict(lr=2e-4 * 1024 / 256, weight_decay=0.3))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=0,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=600)
