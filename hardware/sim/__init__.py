"""Simulators for tests and the demo: virtual IC card (vpcd), pty serial devices, printer sink."""
