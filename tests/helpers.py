"""Helpers shared by the tests."""
import torch


def randomize_(module: torch.nn.Module, std: float = 0.1) -> torch.nn.Module:
    """Give every parameter random values (GRN gamma/beta and norms included), so that parity
    tests exercise every weight rather than identity-initialized ones."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.normal_(1.0 if name.endswith('norm.weight') else 0.0, std)
    return module
