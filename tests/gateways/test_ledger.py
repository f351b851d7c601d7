"""The ledger's claims (the per-message transaction of sending), on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from samen.gateways.store.ledger import (
    _PASS_LOCK,
    FAILED,
    PLANNED,
    SENT,
    Deliveries,
    NewMessage,
)
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


def more(store: Store, *keys: str) -> None:
    """Record more planned messages under these keys."""
    store.ledger.record([NewMessage(k, "ontvangstbevestiging", k, f"{k}@example.org", "Onderwerp",
                                    f"<{k}@example.org>", b"bytes") for k in keys],
                        datetime(2023, 10, 31, 8, 0))


def deliver(deliveries: Deliveries, key: str) -> int | None:
    """Claim a message with the day's count, mark it sent; return the count the claim carried."""
    with deliveries.claimed(key, DAY) as claim:
        assert claim is not None
        claim.mark_sent(AT, DAY)
        return claim.sent_that_day


def test_a_lone_pass_knows_the_day_count_without_counting_again(store: Store) -> None:
    """Alone, a pass counts in its first claim only, then adds its own deliveries."""
    send(store, "k0")
    with store.ledger.deliveries() as deliveries:
        assert [deliver(deliveries, k) for k in ("k1", "k2", "k3")] == [1, 2, 3]
        assert deliveries.counted == 1
    assert store.ledger.sent_on(DAY) == 4


def test_a_pass_counts_again_when_another_came_and_went_meanwhile(store: Store) -> None:
    """Another pass that starts, delivers and ends between two claims is counted in the second."""
    with store.ledger.deliveries() as deliveries:
        assert deliver(deliveries, "k0") == 0
        send(store, "k1")  # a whole other pass, over before this pass's next claim
        assert deliver(deliveries, "k2") == 2
        assert deliver(deliveries, "k3") == 3
        assert deliveries.counted == 2  # k0 and k2: nobody came since k2
    assert store.ledger.sent_on(DAY) == 4


def test_two_passes_at_once_count_in_every_claim(store: Store) -> None:
    """While another pass is on, each claim counts what it delivered; after it ended the next
    claim counts once more (it may have delivered after the last count)."""
    more(store, "k4", "k5")
    with store.ledger.deliveries() as mine:
        assert deliver(mine, "k0") == 0
        with store.ledger.deliveries() as theirs:
            assert deliver(mine, "k1") == 1
            assert deliver(theirs, "k2") == 2
            assert deliver(mine, "k3") == 3
            assert deliver(theirs, "k4") == 4
        assert deliver(mine, "k5") == 5
        # Mine counts at k0, k3 and k5, and on PostgreSQL at k1 too (theirs is registered; on
        # SQLite theirs had committed nothing yet); theirs at k2 and k4.
        postgres = store.engine.dialect.name == "postgresql"
        assert (mine.counted, theirs.counted) == ((4 if postgres else 3), 2)
    assert store.ledger.sent_on(DAY) == 6


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_pass_leaves_no_lock_or_prepared_statement_behind(store: Store) -> None:
    """A PostgreSQL pass, even one that died in a claim, lets go of its registration and its
    prepared statements: the pooled connection goes back as it was (SQLite sets up neither)."""
    with pytest.raises(Crash), store.ledger.deliveries() as deliveries:
        conn = deliveries.conn
        with deliveries.claimed("k0", DAY) as claim:
            assert claim is not None
            raise Crash
    try:
        left = conn.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'samen%'")
        assert left.fetchone()[0] == 0
        with store.engine.connect() as other:  # no pass holds the lock, not even shared
            alone = other.execute(sa.text(f"SELECT pg_try_advisory_lock({_PASS_LOCK})")).scalar_one()
            assert alone is True
            other.execute(sa.text(f"SELECT pg_advisory_unlock({_PASS_LOCK})"))
    finally:
        conn.rollback()
    with store.ledger.deliveries() as deliveries:  # and the next pass works as before
        assert deliver(deliveries, "k0") == 0
