# ConvNeXt V2-T fine-tuned on ImageNet-1k (paper: 83.0 top-1 after FCMAE). Paper Table 10, as
# the official TRAINING.md tiny command: AdamW (0.9, 0.999), blr 8e-4 at batch 1024 (32 GPUs x
# 32; lr = blr * 1024 / 256), wd 0.05, layer decay 0.9, cosine after 40 warm-up epochs, 300
# epochs, RandAug (9, 0.5), smoothing 0.1, mixup 0.8 / cutmix 1.0, drop path 0.2, head init
# 0.001, EMA 0.9999. Not in the table: 'single' (layer-wise) decay (appendix A.2; TRAINING.md),
# random erasing 0.25 (TRAINING.md), min lr 1e-6 (main_finetune.py default).
_base_ = [
    '../_base_/models/convnextv2_in1k.py',
    '../_base_/datasets/imagenet_bs32_224.py',
    '../_base_/schedules/imagenet_adamw_finetune.py',
    '../_base_/default_runtime.py',
]
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'tiny'
model = dict(backbone=dict(arch=arch), head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
# Backbone weights (an FCMAE checkpoint converted by tools/model_converters/fcmae_to_backbone.py),
# given with `--cfg-options pretrained=PATH`; None trains from scratch.
pretrained = None
custom_hooks = [dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL')]
