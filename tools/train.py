"""Train any config of this project (mmpretrain, mmdet or mmseg, by its default_scope).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--skip-bad-samples]
                               [--cfg-options ...]
"""
import argparse

from mmengine.runner import Runner
from torch.distributed.elastic.multiprocessing.errors import record

import mmconvnextv2  # noqa: F401  (registers models; safe checkpoint loading)
from mmconvnextv2.apis import add_runner_args, close_distributed, init_cpu_distributed, load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint in the work dir '
                        'when no CKPT is given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--skip-bad-samples', action='store_true',
                        help='log and skip training images, labels and annotations that '
                        'cannot be used instead of stopping')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual total batch size')
    add_runner_args(parser)
    return parser.parse_args(argv)


@record  # under torchrun, the failing rank's exception is shown in the launcher's summary
def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.work_dir, args.cfg_options, args.launcher, args.resume,
                      args.amp, args.auto_scale_lr, args.skip_bad_samples)
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    del runner  # its DDP wrapper holds the process group
    close_distributed()


if __name__ == '__main__':
    main()
