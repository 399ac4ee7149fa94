_base_ = ['./upernet_convnextv2-large_8xb2-160k_ade20k-512x512.py']
test_dataloader = dict(dataset=dict(pipeline={{_base_.tta_pipeline}}))
model = dict(_delete_=True, type='mmseg.SegTTAModel', module={{_base_.model}})
