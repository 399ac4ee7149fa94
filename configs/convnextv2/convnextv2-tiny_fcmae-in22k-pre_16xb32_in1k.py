# ConvNeXt V2-T, FCMAE -> ImageNet-22K -> ImageNet-1k, 224 px. Published top-1 83.9 (official
# README, "ImageNet-22K fine-tuned models"; paper Table 15): im22k/convnextv2_tiny_22k_224_ema.pt.
# Step 3 of the pipeline, from a convnextv2-tiny_fcmae-pre_128xb32_in22k.py checkpoint
# (--cfg-options pretrained=PATH: its backbone; the 21841-class head is left behind).
# Paper, appendix Table 13 (IN-1K fine-tuning after IN-22K), for N/T: blr 2.5e-5 at batch 512,
# wd 1e-8, layer decay 0.9, cosine without warm-up, 90 epochs, RandAug (9, 0.5), smoothing 0.1,
# no mixup or cutmix, drop path 0.1, head init 0.001, EMA 0.9999. The rest is the tiny IN-1k
# recipe this inherits (the paper is silent; official main_finetune.py defaults): random erasing
# 0.25, 'single' layer decay, min lr 1e-6; test: short side 256, center crop 224.
_base_ = ['./convnextv2-tiny_32xb32_in1k.py']

model = dict(backbone=dict(drop_path_rate=0.1), train_cfg=dict(_delete_=True, augments=None))
optim_wrapper = dict(optimizer=dict(lr=2.5e-5 * 512 / 256, weight_decay=1e-8))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=0,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=90)
auto_scale_lr = dict(base_batch_size=512)
