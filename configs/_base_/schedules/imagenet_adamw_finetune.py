# Official ConvNeXt V2 fine-tuning schedule: AdamW, effective batch 1024 (lr = blr * 1024 / 256),
# cosine decay after a linear warm-up, layer-wise lr decay, and no weight decay on norms,
# biases and GRN gamma/beta (mmconvnextv2.engine.ConvNeXtV2LayerDecayConstructor).
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=8e-4 * 1024 / 256, weight_decay=0.05, betas=(0.9, 0.999),
                   fused=True),
    constructor='ConvNeXtV2LayerDecayConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.9, decay_type='single'),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, end=40, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=40,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
