"""What every Kivy app of the appliance shares: boot settings, fonts, translations, the MQTT bridge.

Import :mod:`ui_kit.boot` and call ``prepare()`` before anything imports Kivy.
"""
