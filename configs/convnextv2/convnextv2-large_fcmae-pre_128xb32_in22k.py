# ImageNet-22K intermediate fine-tuning of an FCMAE-pretrained ConvNeXt V2-L: the base recipe
# (the paper's Table 12 gives B and L the same settings).
_base_ = ['./convnextv2-base_fcmae-pre_128xb32_in22k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'large'
model = dict(backbone=dict(arch=arch), head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
