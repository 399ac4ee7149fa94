# ConvNeXt V2-B, FCMAE -> ImageNet-22K -> ImageNet-1k, 224 px. Published top-1 86.8 (official
# README; paper Table 15): im22k/convnextv2_base_22k_224_ema.pt. Table 13 for B: layer decay 0.8,
# 30 epochs, drop path 0.2. 'group' layer decay: the paper is silent; the official
# main_finetune.py groups layers for base and larger.
_base_ = ['./convnextv2-tiny_fcmae-in22k-pre_16xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'base'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.2),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8, decay_type='group'))
train_cfg = dict(max_epochs=30)
