"""Parameter and FLOP counts of the ConvNeXt V2 classifiers."""
from typing import Dict


def classifier_complexity(arch: str, input_size: int = 224, num_classes: int = 1000) -> Dict:
    """Parameters and FLOPs (multiply-adds, the convention of the paper and of mmengine's
    counter) of the ImageNet classifier of ``arch`` at ``input_size`` px."""
    import torch
    from mmengine.analysis import FlopAnalyzer, parameter_count

    from ..models import ConvNeXtV2

    class Classifier(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = ConvNeXtV2(arch, init_cfg=None)
            self.fc = torch.nn.Linear(self.backbone.channels[-1], num_classes)

        def forward(self, x):
            return self.fc(self.backbone(x)[-1])

    model = Classifier().eval()
    x = torch.zeros(1, 3, input_size, input_size)
    flops = FlopAnalyzer(model, x)
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    return dict(arch=arch, input_size=input_size, params=parameter_count(model)[''],
                flops=flops.total())
