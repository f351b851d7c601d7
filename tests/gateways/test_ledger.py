"""The ledger's claims (the per-message transaction of sending), on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime

import pytest

from samen.gateways.store.ledger import FAILED, PLANNED, SENT, NewMessage
from samen.gateways.store.store import Store

DAY = date(2023, 11, 1)
AT = datetime(2023, 11, 1, 9, 30, 15, 250000)


class Crash(BaseException):
    """The process dies (not an Exception: nothing may catch it)."""


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yield a migrated store with four planned messages, k0 to k3."""
    s = Store(store_url)
    s.migrate()
    s.ledger.record([NewMessage(f"k{i}", "ontvangstbevestiging", f"S-{i}", f"p{i}@example.org",
                                "Onderwerp", f"<m{i}@example.org>", b"bytes") for i in range(4)],
                    datetime(2023, 10, 31, 8, 0))
    yield s
    s.close()


def send(store: Store, *keys: str) -> None:
    """Mark these messages sent on DAY, each in its own claim."""
    with store.ledger.deliveries() as deliveries:
        for key in keys:
            with deliveries.claimed(key) as claim:
                assert claim is not None
                claim.mark_sent(AT, DAY)


def test_outcomes_read_back_as_recorded(store: Store) -> None:
    """Sent, failed and a noted attempt read back through the store's other queries unchanged."""
    with store.ledger.deliveries() as deliveries:
        with deliveries.claimed("k0") as claim:
            assert claim is not None and claim.sent_that_day is None
            claim.mark_sent(AT, DAY)
        with deliveries.claimed("k1") as claim:
            assert claim is not None
            claim.mark_failed("550 weg")
        with deliveries.claimed("k2") as claim:
            assert claim is not None
            claim.note_attempt("450 later")
        with deliveries.claimed("k0") as claim:
            assert claim is None  # sent: never claimed again
    e = store.ledger.entries()
    assert (e["k0"].status, e["k0"].sent_at, e["k0"].sent_day, e["k0"].attempts, e["k0"].reason) == (
        SENT, AT, DAY, 1, "")
    assert (e["k1"].status, e["k1"].reason, e["k1"].attempts, e["k1"].sent_day) == (
        FAILED, "550 weg", 1, None)
    assert (e["k2"].status, e["k2"].reason, e["k2"].attempts) == (PLANNED, "450 later", 1)
    assert (e["k3"].status, e["k3"].attempts) == (PLANNED, 0)
    assert store.ledger.sent_on(DAY) == 1 and [p.key for p, _c in store.ledger.pending()] == ["k2", "k3"]


def test_claim_without_outcome_or_with_a_crash_changes_nothing(store: Store) -> None:
    """A claim left without an outcome rolls back, and so does one the process dies in."""
    before = store.ledger.entries()
    with store.ledger.deliveries() as deliveries:
        with deliveries.claimed("k0", DAY) as claim:
            assert claim is not None
        with pytest.raises(Crash), deliveries.claimed("k1") as claim:
            assert claim is not None
            claim.mark_sent(AT, DAY)
            raise Crash
        with deliveries.claimed("k1") as claim:  # the session goes on after the rollback
            assert claim is not None
    assert store.ledger.entries() == before


def test_claim_counts_the_day_while_holding_its_lock(store: Store) -> None:
    """The day's count comes with the claim; while it is held no other run can take the message.

    On SQLite the claim holds the write lock, so no other run can record a delivery between the
    count and the commit (the count is exact); on PostgreSQL the row is locked and another
    run's claim skips it.
    """
    send(store, "k0", "k1")
    with store.ledger.deliveries() as deliveries, deliveries.claimed("k2", DAY) as claim:
        assert claim is not None and claim.sent_that_day == 2
        if store.engine.dialect.name == "sqlite":
            other = sqlite3.connect(store.engine.url.database or "", timeout=0.1)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("UPDATE messages SET attempts = attempts + 1 WHERE key = 'k3'")
            finally:
                other.close()
        else:
            with store.ledger.deliveries() as concurrent:
                with concurrent.claimed("k2", DAY) as theirs:
                    assert theirs is None  # locked by us: skipped
                with concurrent.claimed("k3", DAY) as theirs:
                    assert theirs is not None and theirs.sent_that_day == 2
        claim.mark_sent(AT, DAY)
    assert store.ledger.sent_on(DAY) == 3 and store.ledger.sent_on(date(2023, 11, 2)) == 0
