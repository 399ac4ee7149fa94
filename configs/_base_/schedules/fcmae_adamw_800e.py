# Official FCMAE pretraining schedule: AdamW (0.9, 0.95), weight decay 0.05 (none on norms,
# biases, GRN and the mask token), lr = 1.5e-4 * total batch / 256 with an effective batch of
# 4096, 40 warm-up epochs, then cosine decay; 800 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    # fused: one kernel for all parameters (on a CPU 42 ms per tiny step against 178 ms for
    # torch's per-tensor loop; README, Performance)
    optimizer=dict(type='AdamW', lr=1.5e-4 * 4096 / 256, betas=(0.9, 0.95), weight_decay=0.05,
                   fused=True),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        flat_decay_mult=0.0,
        custom_keys={'mask_token': dict(decay_mult=0.)},
    ),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=760, by_epoch=True, begin=40, end=800,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=800)
auto_scale_lr = dict(base_batch_size=4096)
