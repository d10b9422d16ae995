"""Test kit: what both ``tests/`` and ``bench/`` drive the appliance with, so neither imports the other.

Scenarios (a flooding kiosk, a compressed day), site configs for stress runs, a hub process, a Kivy
window driver and figures (percentiles). Not a runtime package: ``setup.py`` does not install it; tests
find it through pytest's ``pythonpath`` and bench scripts through the repository root on ``sys.path``.
"""
