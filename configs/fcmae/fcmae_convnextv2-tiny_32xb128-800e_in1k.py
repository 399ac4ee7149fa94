# FCMAE pretraining of ConvNeXt V2-T on ImageNet-1k: 800 epochs, effective batch 4096
# (32 GPUs x 128; scale with --auto-scale-lr otherwise). Paper: 83.0 top-1 after fine-tuning.
_base_ = [
    '../_base_/models/fcmae_convnextv2.py',
    '../_base_/datasets/imagenet_fcmae.py',
    '../_base_/schedules/fcmae_adamw_800e.py',
    '../_base_/default_runtime.py',
]
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'tiny'
model = dict(backbone=dict(arch=arch),
             neck=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
                     logger=dict(type='LoggerHook', interval=100))
