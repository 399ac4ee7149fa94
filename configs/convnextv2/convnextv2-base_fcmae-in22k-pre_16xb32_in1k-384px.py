# ConvNeXt V2-B, FCMAE -> ImageNet-22K -> ImageNet-1k, 384 px. Published top-1 87.7 (official
# README; paper Table 15): im22k/convnextv2_base_22k_384_ema.pt. The 224-px recipe on 384-px
# crops; test: the whole image resized to 384 x 384, no crop, as the tiny 384-px config.
_base_ = ['./convnextv2-base_fcmae-in22k-pre_16xb32_in1k.py']

import mmconvnextv2.datasets.resolution as _resolution  # noqa: E402

img_size = 384
train_pipeline, test_pipeline = _resolution.at_resolution(_base_.train_pipeline, img_size)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
