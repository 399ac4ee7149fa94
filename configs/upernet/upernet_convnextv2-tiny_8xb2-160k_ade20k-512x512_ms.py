# Multi-scale + flip test (ratios 0.5-1.75) of the single-scale config.
_base_ = ['./upernet_convnextv2-tiny_8xb2-160k_ade20k-512x512.py']
test_dataloader = dict(dataset=dict(pipeline={{_base_.tta_pipeline}}))
model = dict(_delete_=True, type='mmseg.SegTTAModel', module={{_base_.model}})
