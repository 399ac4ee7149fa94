# ImageNet-22K intermediate fine-tuning of an FCMAE-pretrained ConvNeXt V2-H: the large recipe
# with drop path 0.3 (the paper's Table 12).
_base_ = ['./convnextv2-large_fcmae-pre_128xb32_in22k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'huge'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.3),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
