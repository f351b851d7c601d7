"""Store gateway: SQLAlchemy on SQLite (default) or PostgreSQL."""

from samen.gateways.store.store import Store, StoreError, safe_url

__all__ = ["Store", "StoreError", "safe_url"]
