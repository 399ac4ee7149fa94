# ImageNet-1k train split (folder layout) for FCMAE pretraining: RandomResizedCrop(224, scale
# 0.2-1) and horizontal flip, nothing else, as the official recipe. Labels are not used, so any
# folder of images works (CustomDataset scans data_root/data_prefix recursively).
dataset_type = 'CustomDataset'
data_root = 'data/imagenet'
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, data_prefix='train', with_label=False,
                 pipeline=train_pipeline),
)
