from .config import apply_pretrained, enable_show_dir, load_config

__all__ = ['apply_pretrained', 'enable_show_dir', 'load_config']
