# Decoder ablation (report Table 1a), ConvNeXt V2-B, 800 epochs: the hierarchical UNet decoder
# with skip connections from the sparse encoder's stages 0-2 (strides 4, 8, 16).
_base_ = ['../fcmae_convnextv2-base_32xb128-800e_in1k.py']
model = dict(
    backbone=dict(out_indices=(0, 1, 2, 3)),
    neck=dict(decoder_type='unet', skip=True, skip_channels=[128, 256, 512]))
