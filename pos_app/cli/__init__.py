"""The scriptable command line, `pos-app`: parses arguments, calls the services, prints.

No business rules live here; every permission check, limit and calculation is the services'.
"""
