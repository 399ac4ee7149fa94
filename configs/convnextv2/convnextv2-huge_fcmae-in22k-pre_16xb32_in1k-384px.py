# ConvNeXt V2-H, FCMAE -> ImageNet-22K -> ImageNet-1k, 384 px. Published top-1 88.7 (official
# README; paper Tables 5 and 15): im22k/convnextv2_huge_22k_384_ema.pt. The large 384-px recipe
# with the paper's Table 13 values for H: layer decay 0.85, drop path 0.5, no EMA (the released
# file is nevertheless named _ema).
_base_ = ['./convnextv2-large_fcmae-in22k-pre_16xb32_in1k-384px.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'huge'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.5),
             head=dict(in_channels=_convnextv2.channels_of(arch)[-1]))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.85))
custom_hooks = []
