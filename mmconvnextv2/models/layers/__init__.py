from .grn import GRN, MLP_NORMS, ChannelsLastNorm, build_mlp_norm

__all__ = ['GRN', 'MLP_NORMS', 'ChannelsLastNorm', 'build_mlp_norm']
