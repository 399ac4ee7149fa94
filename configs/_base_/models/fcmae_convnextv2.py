# FCMAE with a ConvNeXt V2 encoder: 32-px patches, 60% masked, sparse encoder (the 'gather'
# backend: pointwise work on visible positions only), one ConvNeXt V2 block of width 512 as
# decoder, MSE on the masked patches of per-patch normalized pixels.
model = dict(
    type='FCMAE',
    mask_ratio=0.6,
    patch_size=32,
    backbone=dict(
        type='ConvNeXtV2',
        out_indices=(3, ),
        final_norm=False,
        gap_before_final_norm=False,
        sparse_backend='gather',
    ),
    neck=dict(type='FCMAENeck', embed_dim=512, depth=1,
              patch_size=32, out_channels=3),
    head=dict(type='FCMAEHead', patch_size=32, in_channels=3, norm_pix=True),
)
