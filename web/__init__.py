"""The web application of the appliance (``qms web``): administration of the center's config, its
versions, and the devices' health; Flask with server-rendered templates, nothing from the internet.

Layering: ``web`` imports ``qms.config`` (the same models as ``qms config check``) and ``mqtt_bus`` (the
health page), never Kivy or the apps. See docs/web.md.
"""
