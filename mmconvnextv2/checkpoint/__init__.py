from .convert import (
    CONVERTERS,
    SOURCE_NAMES,
    SOURCES,
    arch_name,
    check_state_dict,
    compare_state_dicts,
    convert,
    convert_hf,
    convert_mmpretrain,
    convert_official,
    convert_official_fcmae,
    convert_ours,
    convert_timm,
    detect_source,
    fcmae_to_backbone,
    infer_arch,
    unwrap,
)

__all__ = [
    'CONVERTERS', 'SOURCE_NAMES', 'SOURCES', 'arch_name', 'check_state_dict',
    'compare_state_dicts', 'convert', 'convert_hf', 'convert_mmpretrain', 'convert_official',
    'convert_official_fcmae', 'convert_ours', 'convert_timm', 'detect_source',
    'fcmae_to_backbone', 'infer_arch', 'unwrap'
]
