"""``qms rating --counter ID``: a tablet facing the citizen that asks for a rating after Xong.

It listens to ``event/ticket_completed`` of its counter and sends ``rate`` (it connects with the
``counter`` role: the ACL lets a ``display`` publish nothing).
"""

from __future__ import annotations

import argparse
from typing import Any

from mqtt_bus.client import BusClient
from mqtt_bus.contract import EventType, Role
from qms.context import AppContext

from .desk import Desk
from .launch import UsageError, boot_kivy, desk_for, language, make_client, report_usage, run_app


def build_rating(desk: Desk, lang: str = "vi", *, rating_timeout: float = 20.0, thanks_s: float = 4.0) -> Any:
    """The tablet's root widget (a :class:`RatingView` with its view-model as ``.vm``)."""
    from ui_kit.fonts import register_fonts

    from .rating_view import RatingView
    from .rating_vm import RatingViewModel

    register_fonts()
    return RatingView(vm=RatingViewModel(desk, None, lang, timeout_s=rating_timeout, thanks_s=thanks_s))


def connect(root: Any, client: BusClient) -> Any:
    """Listen to completed tickets of the counter and send ratings through ``client``."""
    from ui_kit.bridge import UiBus

    bus = UiBus(client)
    root.vm.bus = bus
    bus.subscribe(bus.topics.event(EventType.TICKET_COMPLETED), root.vm.on_ticket_completed)
    return bus.start()


def run(ctx: AppContext, ns: argparse.Namespace) -> int:
    """Build and run the rating tablet until its window closes."""
    try:
        desk = desk_for(ctx, ns)
    except UsageError as err:
        return report_usage(err)
    lang = language(ctx, ns)
    client = make_client(ctx, f"rating-{desk.counter_id}", Role.COUNTER)
    boot_kivy(ctx, ns, "rating")

    def build() -> Any:
        root = build_rating(desk, lang, rating_timeout=ns.rating_timeout)
        connect(root, client)
        return root

    return run_app(f"{desk.name(lang)} — đánh giá", build, client.close)
