"""Store gateway: SQLAlchemy on SQLite (default) or PostgreSQL."""

from samen.gateways.store.store import Store, StoreError

__all__ = ["Store", "StoreError"]
