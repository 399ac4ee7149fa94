_base_ = ['./upernet_convnextv2-tiny_8xb2-160k_ade20k-512x512.py']
import mmconvnextv2.models.backbones.convnextv2 as _convnextv2  # noqa: E402

arch = 'pico'
model = dict(backbone=dict(arch=arch, drop_path_rate=0.1),
             decode_head=dict(in_channels=_convnextv2.channels_of(arch)),
             auxiliary_head=dict(in_channels=_convnextv2.channels_of(arch)[2]))
optim_wrapper = dict(paramwise_cfg=dict(decay_type='single'))
