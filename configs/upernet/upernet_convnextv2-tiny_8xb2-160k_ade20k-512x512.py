# UperNet with ConvNeXt V2-T on ADE20K: 512x512 crops, 160k iterations, AdamW 1e-4, wd 0.05,
# layer decay 0.9, auxiliary FCN head on stage 3 (index 2); mIoU from mmseg's metric,
# single-scale sliding-window test (the _ms config tests at multiple scales with flips).
# Backbone weights: `--cfg-options pretrained=PATH` (from scratch when None).
_base_ = [
    'mmseg::_base_/models/upernet_convnext.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)
arch = 'tiny'
pretrained = None
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXtV2',
        arch=arch,
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False,
        drop_path_rate=0.3,
    ),
    decode_head=dict(in_channels=_convnextv2.channels_of(arch), num_classes=150),
    auxiliary_head=dict(in_channels=_convnextv2.channels_of(arch)[2], num_classes=150),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)),
)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05, fused=True),
    constructor='ConvNeXtV2LayerDecayConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.9, decay_type='single'),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=1500, end=160000),
]
train_dataloader = dict(batch_size=2)
