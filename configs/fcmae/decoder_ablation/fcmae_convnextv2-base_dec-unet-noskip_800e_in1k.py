# Decoder ablation (report Table 1a), ConvNeXt V2-B, 800 epochs: the UNet decoder without skip
# connections.
_base_ = ['./fcmae_convnextv2-base_dec-unet-skip_800e_in1k.py']
model = dict(backbone=dict(out_indices=(3, )), neck=dict(skip=False))
