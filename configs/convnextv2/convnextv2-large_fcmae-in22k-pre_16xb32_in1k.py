# ConvNeXt V2-L, FCMAE -> ImageNet-22K -> ImageNet-1k, 224 px. Published top-1 87.3 (official
# README; paper Table 15): im22k/convnextv2_large_22k_224_ema.pt. The base recipe with drop path
# 0.3 (the paper's Table 13).
_base_ = ['./convnextv2-base_fcmae-in22k-pre_16xb32_in1k.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'large'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.3),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
