# Mask R-CNN + FPN with ConvNeXt V2-T on COCO, 1x schedule (12 epochs), AdamW 1e-4, wd 0.05,
# layer decay 0.95. Box and mask AP from mmdet's COCO metric. Backbone weights: an FCMAE
# checkpoint given with `--cfg-options pretrained=PATH` (from scratch when None).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

custom_imports = dict(imports=['mmconvnextv2'], allow_failed_imports=False)
arch = 'tiny'
pretrained = None
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXtV2',
        arch=arch,
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False,
        drop_path_rate=0.4,
    ),
    neck=dict(in_channels=_convnextv2.channels_of(arch)),
)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05, fused=True),
    constructor='ConvNeXtV2LayerDecayConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.95, decay_type='single'),
)
