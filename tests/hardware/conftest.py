"""Shared fixtures for the device tests live in the modules that need them."""
