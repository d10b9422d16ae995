"""What every Kivy app of the appliance shares: boot settings, fonts, translations, the MQTT bridge,
and the screen-facing view of the site config (:mod:`ui_kit.site_view`, no Kivy).

Import :mod:`ui_kit.boot` and call ``prepare()`` before anything imports Kivy.
"""
