_base_ = ['./fcmae_convnextv2-tiny_32xb128-800e_in1k.py']
model = dict(backbone=dict(arch='nano'), neck=dict(in_channels=640))
