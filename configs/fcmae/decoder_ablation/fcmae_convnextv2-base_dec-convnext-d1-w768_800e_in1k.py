# Decoder ablation (report Table 1c), ConvNeXt V2-B, 800 epochs: decoder width 768.
_base_ = ['../fcmae_convnextv2-base_32xb128-800e_in1k.py']
model = dict(neck=dict(embed_dim=768))
