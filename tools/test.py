"""Evaluate a checkpoint with any config of this project.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE] [--show-dir DIR]
"""
import argparse

from mmengine.runner import Runner
from torch.distributed.elastic.multiprocessing.errors import record

import mmconvnextv2  # noqa: F401
from mmconvnextv2.apis import (
    add_runner_args,
    close_distributed,
    enable_show_dir,
    init_cpu_distributed,
    load_config,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--out', help='dump the predictions to this pickle file')
    parser.add_argument('--show-dir', help='draw predictions into this dir under the work dir')
    add_runner_args(parser)
    return parser.parse_args(argv)


@record  # under torchrun, the failing rank's exception is shown in the launcher's summary
def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.work_dir, args.cfg_options, args.launcher)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        enable_show_dir(cfg, args.show_dir)
    if args.out:
        cfg.test_evaluator = list(cfg.test_evaluator) if isinstance(
            cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    runner.test()
    del runner  # its DDP wrapper holds the process group
    close_distributed()


if __name__ == '__main__':
    main()
