"""Offline-first point of sale with a member-card module (会员卡)."""

__version__ = "0.1.0"
