from .convert import (
    CONVERTERS,
    SOURCES,
    arch_name,
    check_state_dict,
    compare_state_dicts,
    convert,
    convert_mmpretrain,
    convert_official,
    convert_official_fcmae,
    convert_timm,
    fcmae_to_backbone,
    infer_arch,
    unwrap,
)

__all__ = [
    'CONVERTERS', 'SOURCES', 'arch_name', 'check_state_dict', 'compare_state_dicts', 'convert',
    'convert_mmpretrain', 'convert_official', 'convert_official_fcmae', 'convert_timm',
    'fcmae_to_backbone', 'infer_arch', 'unwrap'
]
