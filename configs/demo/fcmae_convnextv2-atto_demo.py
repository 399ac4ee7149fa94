# FCMAE pretraining of ConvNeXt V2-A on the embedded demo images (ImageNet folder layout,
# 128 px): the paper's recipe shortened to a few hundred iterations for a laptop CPU.
_base_ = ['../fcmae/fcmae_convnextv2-atto_32xb128-800e_in1k.py']
data_root = 'work_dirs/demo/data/imagenet/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=128, crop_ratio_range=(0.4, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
max_iters = 300
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters),
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=max_iters),
                     logger=dict(interval=20))
log_processor = dict(by_epoch=False)
custom_hooks = [dict(type='FCMAEReconstructionHook', num_images=6)]
