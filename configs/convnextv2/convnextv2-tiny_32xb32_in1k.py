# ConvNeXt V2-T fine-tuned on ImageNet-1k, the official recipe (paper: 83.0 top-1 after FCMAE).
# blr 8e-4, 300 epochs, 40 warm-up, layer decay 0.9 'single', wd 0.05, drop path 0.2,
# mixup 0.8 / cutmix 1.0, smoothing 0.1, RandAugment m9, random erasing 0.25, EMA 0.9999.
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
