# ImageNet-22K intermediate fine-tuning of an FCMAE-pretrained ConvNeXt V2-B. Table 12 for B/L:
# layer decay 0.8, drop path 0.1. 'group' layer decay: the paper is silent; the official
# main_finetune.py groups layers for base and larger.
_base_ = ['./convnextv2-tiny_fcmae-pre_128xb32_in22k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'base'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.1),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8, decay_type='group'))
