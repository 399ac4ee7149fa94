# ImageNet-22K intermediate fine-tuning of an FCMAE-pretrained ConvNeXt V2-T: step 2 of the
# paper's FCMAE (IN-1k) -> IN-22K -> IN-1k pipeline; step 3 is convnextv2-tiny_fcmae-in22k-pre_*.
# Names: <arch>_<what the start weights learned>-pre_<GPUs>xb<images per GPU>_<data>[-<px>].
# Paper, appendix Table 12 (IN-22K intermediate fine-tuning): AdamW (0.9, 0.999), blr 2.5e-4 at
# batch 4096, wd 0.05, layer decay 0.9 (N/T), cosine after 5 warm-up epochs, 90 epochs,
# RandAug (9, 0.5), smoothing 0.1, mixup 0.8 / cutmix 1.0, drop path 0 for N/T (printed
# "0.(N/T)"), head init 0.001, no EMA. The paper is silent on the rest; we use: 21841 classes,
# 128 GPUs x 32 images and no evaluation, as ConvNeXt's own 22K runs (ConvNeXt TRAINING.md);
# 224 px, the resolution of the released FCMAE encoders; 'single' layer decay, random erasing
# 0.25 and min lr 1e-6, as the official main_finetune.py for N/T.
# Start from the FCMAE encoder (tools/model_converters/fcmae_to_backbone.py):
# --cfg-options pretrained=PATH.
_base_ = [
    '../_base_/models/convnextv2_in1k.py',
    '../_base_/datasets/imagenet21k_bs32_224.py',
    '../_base_/schedules/imagenet_adamw_finetune.py',
    '../_base_/default_runtime.py',
]
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'tiny'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.0),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1], num_classes=21841))
optim_wrapper = dict(optimizer=dict(lr=2.5e-4 * 4096 / 256))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=90)
val_cfg = None
test_cfg = None
auto_scale_lr = dict(base_batch_size=4096)
pretrained = None
