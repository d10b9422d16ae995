"""A separate process that issues tickets on a store and prints each acknowledged ticket id.

Usage: python -m tests.integration.store_worker DB COUNT NAME
"""

from __future__ import annotations

import sys

from hub.store import Store
from tests.factories import make_site


def main() -> None:
    db, count, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    store = Store(db, make_site(end=99999))
    for i in range(count):
        reply = store.run("issue_ticket", {"service": "tu-phap"}, request_id=f"{name}-{i}")
        assert reply.ok, reply.response
        print(reply.response["result"]["ticket"]["id"], reply.response["result"]["ticket"]["number"], flush=True)


if __name__ == "__main__":
    main()
