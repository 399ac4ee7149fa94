# ImageNet-22K (the full ImageNet, fall 2011 release: 21841 classes, about 14M images) for the
# intermediate fine-tuning, in mmpretrain's ImageNet21k layout:
#   data/imagenet21k/train/<wnid>/<image>.JPEG
#   data/imagenet21k/meta/train.txt   one "<wnid>/<image>.JPEG <label>" line per image
# Without meta/train.txt the dataset scans the train/ folders (classes in sorted wnid order) at
# every start, which takes long at this size. The augmentation is the ImageNet-1k fine-tuning one
# (the paper's Table 12: RandAug (9, 0.5); random erasing 0.25, the official default).
# No validation: ImageNet-22K has no validation split, and ConvNeXt's own 22K runs train without
# evaluation (ConvNeXt TRAINING.md: --data_set image_folder --nb_classes 21841 --disable_eval).
_base_ = ['./imagenet_bs32_224.py']

dataset_type = 'ImageNet21k'
data_root = 'data/imagenet21k'
data_preprocessor = dict(num_classes=21841)  # the one-hot width of mixup and cutmix
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
