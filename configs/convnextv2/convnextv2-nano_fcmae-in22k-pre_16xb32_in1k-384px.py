# ConvNeXt V2-N, FCMAE -> ImageNet-22K -> ImageNet-1k, 384 px. Published top-1 83.4 (official
# README; paper Table 15): im22k/convnextv2_nano_22k_384_ema.pt. The tiny 384-px recipe (the
# paper's Table 13 gives N and T the same settings).
_base_ = ['./convnextv2-tiny_fcmae-in22k-pre_16xb32_in1k-384px.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'nano'
model = dict(backbone=dict(arch=arch), head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
