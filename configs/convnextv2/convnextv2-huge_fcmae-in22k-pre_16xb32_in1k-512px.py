# ConvNeXt V2-H, FCMAE -> ImageNet-22K -> ImageNet-1k, 512 px. Published top-1 88.9 (official
# README; paper Tables 5 and 15), the paper's best: im22k/convnextv2_huge_22k_512_ema.pt. The
# 384-px recipe on 512-px crops; test: the whole image resized to 512 x 512, no crop.
_base_ = ['./convnextv2-huge_fcmae-in22k-pre_16xb32_in1k-384px.py']

img_size = 512
train_pipeline = [dict(step, scale=img_size) if step.type == 'RandomResizedCrop' else step
                  for step in _base_.train_pipeline]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
