from .synrl import SynRL, SynRLConfig

__all__ = ["SynRL", "SynRLConfig"]
