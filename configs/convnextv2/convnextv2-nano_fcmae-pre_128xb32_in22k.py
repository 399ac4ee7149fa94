# ImageNet-22K intermediate fine-tuning of an FCMAE-pretrained ConvNeXt V2-N: the tiny recipe
# (the paper's Table 12 gives N and T the same settings).
_base_ = ['./convnextv2-tiny_fcmae-pre_128xb32_in22k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'nano'
model = dict(backbone=dict(arch=arch), head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
