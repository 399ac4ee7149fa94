# Decoder ablation (report Table 1a), ConvNeXt V2-B, 800 epochs: 4 Transformer blocks (the
# report's "Transformer [1-4]") over the patch grid, width 512.
_base_ = ['../fcmae_convnextv2-base_32xb128-800e_in1k.py']
model = dict(neck=dict(decoder_type='transformer', depth=4, num_heads=16))
