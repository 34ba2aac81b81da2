"""Which findings belong to whom: each finding filed under its subject and under the owners of
its subject (a loan's, pledge's, deposit's, order's or trade's client; an order's or trade's
contract), as ``projections.audit.subjects`` files events. This is what lets an officer ask
for a client and get the findings on everything the client owns, with one index lookup.

A tracked read model: the rows of findings up to ``seq`` and the tracked seq commit together
(``regledger_meta`` key ``finding_owners_seq``). It catches up on read, and only over findings
whose position the audit index has reached, since ownership comes from the audit index's
``audit_owners`` (an id's owners are fixed when it is created, so a row never changes)."""

from __future__ import annotations

from itertools import takewhile

from projections.audit.storage import load_owners
from projections.audit.subjects import OWNER_FIELDS
from projections.sql import Sql
from projections.store.base import Store

TRACKING_KEY = "finding_owners_seq"
AUDIT_APPLICATION = "audit"
OWNER_FINDINGS_PER_PAGE_MAX = 2_000
PAGES_PER_CATCH_UP_MAX = 10_000  # 20 million findings: a bound, not a limit anyone meets
LOCK_KEY = 0x5245_4751_4F57  # serialises the writers of this read model on PostgreSQL


def catch_up_owners(store: Store) -> int:
    """File the findings not yet filed; the number filed."""
    sql = Sql(store)
    [(tracked, newest)] = sql.rows(
        "SELECT (SELECT value FROM regledger_meta WHERE key = ?), (SELECT max(seq) FROM findings)", (TRACKING_KEY,))
    if newest is None or (tracked is not None and int(tracked) >= newest):
        return 0  # the usual case, answered by a read: no write transaction, no lock
    audit_position = store.tracked_position(AUDIT_APPLICATION)
    filed = 0
    for _ in range(PAGES_PER_CATCH_UP_MAX):
        with sql.writing(LOCK_KEY) as cursor:
            cursor.execute("SELECT value FROM regledger_meta WHERE key = ?", (TRACKING_KEY,))
            row = cursor.fetchone()
            tracked = int(row[0]) if row else 0
            cursor.execute(
                "SELECT seq, subject, position FROM findings WHERE seq > ? ORDER BY seq LIMIT ?",
                (tracked, OWNER_FINDINGS_PER_PAGE_MAX),
            )
            fetched = cursor.fetchall()
            # findings come in seq order with rising positions: file the prefix the audit index has reached
            page = [(seq, subject) for seq, subject, _ in takewhile(lambda r: r[2] <= audit_position, fetched)]
            if not page:
                return filed
            owners = load_owners(sql, cursor,
                                 {(kind, subject) for _, subject in page for kind in OWNER_FIELDS})
            rows = sorted({
                (owner, seq)
                for seq, subject in page
                for owner in (subject, *(o for kind in OWNER_FIELDS for o in owners.get((kind, subject), ())))
            })
            cursor.executemany(
                "INSERT INTO finding_owners (owner, seq) VALUES (?, ?) ON CONFLICT DO NOTHING", rows
            )
            cursor.execute(
                "INSERT INTO regledger_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (TRACKING_KEY, str(page[-1][0])),
            )
            filed += len(page)
            if len(page) < len(fetched) or len(fetched) < OWNER_FINDINGS_PER_PAGE_MAX:
                return filed
    return filed


def forget_owners(store: Store) -> None:
    """Every filed row and the tracked seq dropped in one transaction (a rebuild follows)."""
    with Sql(store).writing(LOCK_KEY) as cursor:
        cursor.execute("DELETE FROM finding_owners")
        cursor.execute("DELETE FROM regledger_meta WHERE key = ?", (TRACKING_KEY,))
