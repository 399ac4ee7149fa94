# ConvNeXt V2 ImageNet classifier (the leaf config sets `arch` and the head width). The head
# is the official one: global average pooling and LayerNorm (the backbone's `norm3`,
# gap_before_final_norm=True), then one Linear layer.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ConvNeXtV2',
        drop_path_rate=0.2,
        gap_before_final_norm=True,
    ),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        # the official head_init_scale=0.001: trunc-normal(.02) weights scaled by 1e-3
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5, a=-4e-5, b=4e-5, bias=0.),
    ),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]),
)
