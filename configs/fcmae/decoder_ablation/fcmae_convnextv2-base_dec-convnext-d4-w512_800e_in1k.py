# Decoder ablation (report Table 1b), ConvNeXt V2-B, 800 epochs: 4 decoder blocks.
_base_ = ['../fcmae_convnextv2-base_32xb128-800e_in1k.py']
model = dict(neck=dict(depth=4))
