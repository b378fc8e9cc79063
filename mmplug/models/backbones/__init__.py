from .smt import SMT

__all__ = ['SMT']
