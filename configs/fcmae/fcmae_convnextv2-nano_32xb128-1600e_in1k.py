# The 1600-epoch schedule: 40 warm-up epochs, then cosine decay to epoch 1600.
_base_ = ['./fcmae_convnextv2-nano_32xb128-800e_in1k.py']
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=1560, by_epoch=True, begin=40, end=1600,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=1600)
