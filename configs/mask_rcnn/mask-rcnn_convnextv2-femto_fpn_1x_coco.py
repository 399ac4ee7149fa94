_base_ = ['./mask-rcnn_convnextv2-tiny_fpn_1x_coco.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'femto'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.1),
             neck=dict(in_channels=_convnextv2.channels_of(arch)))
optim_wrapper = dict(paramwise_cfg=dict(decay_type='single'))
