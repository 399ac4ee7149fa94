# The 3x large-scale-jitter recipe: 1024 px crops of images resized by 0.1-2.0, 36 epochs
# (lr steps at 27 and 33), AdamW 1e-4, wd 0.05, layer decay 0.95.
_base_ = ['./mask-rcnn_convnextv2-tiny_fpn_1x_coco.py']
image_size = (1024, 1024)
model = dict(data_preprocessor=dict(
    batch_augments=[dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)]))
# mmdet's own transforms by scope: a config inheriting this one through `mmconvnextv2::`
# (README) builds these lists in the mmconvnextv2 scope, mmpretrain's, where RandomCrop is
# another transform; mmcv's (LoadImageFromFile, RandomResize) are found from any scope, and
# mmengine finds a scoped name only in that scope's own registry, not in mmcv's above it
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_type='absolute_range', crop_size=image_size,
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=image_size, keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[27, 33],
         gamma=0.1),
]
