from .config import (
                     add_runner_args,
                     apply_pretrained,
                     close_distributed,
                     enable_show_dir,
                     init_cpu_distributed,
                     load_config,
                     rebase_data_root,
)

__all__ = [
    'add_runner_args', 'apply_pretrained', 'close_distributed', 'enable_show_dir',
    'init_cpu_distributed', 'load_config', 'rebase_data_root'
]
