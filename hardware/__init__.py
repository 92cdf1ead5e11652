"""Device drivers (card readers, receipt printers, displays) and their simulators.

Knows nothing of members or money; imports no QtWidgets.
"""
