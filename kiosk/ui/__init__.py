"""The kiosk's Kivy screens: thin widgets over :class:`kiosk.viewmodel.KioskViewModel`."""
