from .atomic_io import AtomicLocalBackend, register_atomic_backend, write_atomic
from .safe_load import register_safe_globals

__all__ = ['AtomicLocalBackend', 'register_atomic_backend', 'register_safe_globals',
           'write_atomic']
