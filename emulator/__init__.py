"""A local emulator of the 8x8 Work Analytics and contact-center CDR APIs (see README.md)."""

from .config import EmulatorConfig
from .faults import FaultRule
from .server import Emulator

__all__ = ["Emulator", "EmulatorConfig", "FaultRule"]
