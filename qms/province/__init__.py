"""The province: centers' brokers bridged to one provincial broker, and ``qms province ingest`` into PostgreSQL.

- :mod:`qms.province.configs` renders the center's bridge drop-in and the provincial broker's config and ACL;
- :mod:`qms.province.ingest` is the long-running ingester (MQTT v5 shared subscription → PostgreSQL);
- :mod:`qms.province.db` holds the PostgreSQL schema and the batch writes.

See docs/province.md.
"""

INGEST_CLIENT = "display-province"
"""The client id the ingester's ``events_since`` requests use on every site (the hub lets a ``display-*``
ask only read-only actions, ``hub/authz.py``)."""
