# ConvNeXt V2-H, FCMAE -> ImageNet-22K -> ImageNet-1k, 512 px. Published top-1 88.9 (official
# README; paper Tables 5 and 15), the paper's best: im22k/convnextv2_huge_22k_512_ema.pt. The
# 384-px recipe on 512-px crops; test: the whole image resized to 512 x 512, no crop.
_base_ = ['./convnextv2-huge_fcmae-in22k-pre_16xb32_in1k-384px.py']

import mmconvnextv2.datasets.resolution as _resolution  # noqa: E402

img_size = 512
train_pipeline, test_pipeline = _resolution.at_resolution(_base_.train_pipeline, img_size)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
