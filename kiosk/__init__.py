"""The citizen kiosk: a number in three taps (take / priority pictogram → field → procedure), printed or shown.

Layers, each tested on its own:

- :mod:`kiosk.viewmodel` — the state machine (no window): screens, Back/Home, idle timeout,
  one request id per confirmed choice, hub-down / refused / paper-out outcomes, technician PIN;
- :mod:`kiosk.ports` — what it needs from outside; ``tests/kiosk_fakes.py`` — stand-ins for tests;
- adapters: :mod:`kiosk.hublink` (MQTT), :mod:`kiosk.printing` (printer worker thread, retained
  ``state/device/{client id}``), :mod:`kiosk.voice` (espeak-ng prompts on a worker thread);
- :mod:`kiosk.ui` — thin Kivy screens over the view-model; :mod:`kiosk.app` wires it all and
  :mod:`kiosk.main` is ``qms kiosk``.

A new language appears on the welcome screen when ``assets/i18n/<code>/kiosk.json`` exists: copy
``assets/i18n/vi/kiosk.json``, translate the values (keep ``{placeholders}``), and set
``kiosk.lang_name`` to the language's own name. Missing keys fall back to Vietnamese; service names
come from the config (``name: {vi: ..., <code>: ...}``); tickets for languages the printer layout
does not know are printed in Vietnamese, and prompts are spoken with the Vietnamese voice.
"""
