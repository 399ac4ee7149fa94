_base_ = ['./fcmae_convnextv2-tiny_32xb128-1600e_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'atto'
model = dict(backbone=dict(arch=arch),
             neck=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
