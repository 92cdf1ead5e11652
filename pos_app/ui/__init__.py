"""The Qt user interface: widgets and adapters between Qt and the hardware layer."""
