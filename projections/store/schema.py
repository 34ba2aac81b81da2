"""Every table of the store, written once in the type names of either store (``Types``).

Only the append-only triggers (a different language on each store) and the seeding of
eventsourcing's tracking table stay in the store modules. The text of
every statement is part of the stored schema's fingerprint (``base.schema_fingerprint``), so it
renders exactly as each store's schema was first written: a store made by older code opens
without migrating.
"""

from __future__ import annotations

from dataclasses import dataclass

from projections.store.base import SEVERITY_RANK


@dataclass(frozen=True, slots=True)
class Types:
    """One store's spelling of the schema's types and of the few clauses that differ."""

    text: str
    integer: str  # 64 bits
    blob: str
    instant: str  # SQLite keeps fixed-width UTC text (cursors.to_text)
    serial_key: str  # an auto-incremented primary key
    without_rowid: str  # the suffix of a table clustered on its primary key
    raw_index: str  # how the quarantine's lines (up to 4 KiB) are indexed


def ledger_table(t: Types, unique_position: str) -> str:
    """eventsourcing's stored events with a gap-free position (``notification_id``, unique:
    ``unique_position`` inline, or an index of the store's own), ``recorded_at`` and a hash chain."""
    return (
        f"CREATE TABLE IF NOT EXISTS ledger_events ( originator_id {t.text} NOT NULL,"
        f" originator_version {t.integer} NOT NULL, topic {t.text} NOT NULL, state {t.blob} NOT NULL,"
        f" notification_id {t.integer} NOT NULL{unique_position}, recorded_at {t.instant} NOT NULL,"
        f" chain_hash {t.blob} NOT NULL, PRIMARY KEY (originator_id, originator_version))"
    )


def tracking_table(t: Types, name: str) -> str:
    """eventsourcing's single-row tracking table (its name differs per store), created with
    the schema so that start-up is one transaction."""
    return (
        f"CREATE TABLE IF NOT EXISTS {name} ( application_name {t.text}, notification_id {t.integer},"
        f" PRIMARY KEY (application_name)){t.without_rowid}"
    )


def core_ddl(t: Types) -> tuple[str, ...]:
    """The store's meta table, the entity records, the quarantine and its links (records,
    chained, append-only: ``projections.store.quarantine_log``), and the monitor's findings
    and state records."""
    return (
        f"CREATE TABLE IF NOT EXISTS regledger_meta (key {t.text} PRIMARY KEY, value {t.text} NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS ledger_entities ( kind {t.text} NOT NULL, key {t.text} NOT NULL,"
        f" state {t.text} NOT NULL, PRIMARY KEY (kind, key)){t.without_rowid}",
        f"CREATE TABLE IF NOT EXISTS quarantine ( id {t.integer} PRIMARY KEY, previous_id {t.integer} NOT NULL,"
        f" received_at {t.instant} NOT NULL, origin {t.text} NOT NULL, line_no {t.integer}, event_id {t.text},"
        f" reasons {t.text} NOT NULL, raw {t.blob} NOT NULL, chain_hash {t.blob} NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS quarantine_links ( id {t.integer} PRIMARY KEY, previous_id {t.integer} NOT NULL,"
        f" quarantine_id {t.integer} NOT NULL, kind {t.text} NOT NULL, event_id {t.text}, related_id {t.integer},"
        f" actor {t.text} NOT NULL, reason {t.text}, recorded_at {t.instant} NOT NULL, chain_hash {t.blob} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS quarantine_links_line_idx ON quarantine_links (quarantine_id, id)",
        # The same line refused again is found by its bytes (quarantine_log).
        f"CREATE INDEX IF NOT EXISTS quarantine_raw_idx ON quarantine {t.raw_index}(raw)",
        f"CREATE TABLE IF NOT EXISTS findings ( seq {t.serial_key}, finding_id {t.text} NOT NULL UNIQUE,"
        f" rule_id {t.text} NOT NULL, severity {t.text} NOT NULL, event_id {t.text} NOT NULL,"
        f" subject {t.text} NOT NULL, occurred_at {t.instant} NOT NULL, detected_at {t.instant} NOT NULL,"
        f" position {t.integer} NOT NULL, message {t.text} NOT NULL, parameters {t.text} NOT NULL,"
        f" evidence {t.text} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS findings_rule_idx ON findings (rule_id, seq)",
        "CREATE INDEX IF NOT EXISTS findings_subject_idx ON findings (subject, seq)",
        f"CREATE TABLE IF NOT EXISTS monitor_state ( kind {t.text} NOT NULL, key {t.text} NOT NULL,"
        f" state {t.text} NOT NULL, PRIMARY KEY (kind, key)){t.without_rowid}",
    )


def audit_ddl(t: Types) -> tuple[str, ...]:
    """The audit trail's index (projections.audit): each event once with its filterable fields,
    each event under every subject it concerns, and the owners of ids (never changing)."""
    return (
        f"CREATE TABLE IF NOT EXISTS audit_events ( position {t.integer} PRIMARY KEY, event_id {t.text} NOT NULL,"
        f" type {t.text} NOT NULL, source {t.text} NOT NULL, occurred_at {t.instant} NOT NULL,"
        f" recorded_at {t.instant} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS audit_events_recorded_idx ON audit_events (recorded_at, position)",
        f"CREATE TABLE IF NOT EXISTS audit_subjects ( subject {t.text} NOT NULL, position {t.integer} NOT NULL,"
        f" type {t.text} NOT NULL, source {t.text} NOT NULL, occurred_at {t.instant} NOT NULL,"
        f" PRIMARY KEY (subject, position)){t.without_rowid}",
        f"CREATE TABLE IF NOT EXISTS audit_owners ( kind {t.text} NOT NULL, id {t.text} NOT NULL,"
        f" owners {t.text} NOT NULL, PRIMARY KEY (kind, id)){t.without_rowid}",
    )


def cases_ddl(t: Types) -> tuple[str, ...]:
    """The case status read model (domain.cases), written with the case events it summarises."""
    return (
        f"CREATE TABLE IF NOT EXISTS finding_cases ( finding_id {t.text} PRIMARY KEY, case_id {t.text} NOT NULL,"
        f" status {t.text} NOT NULL, assignee {t.text}, resolution {t.text}, updated_at {t.instant} NOT NULL,"
        f" updated_by {t.text} NOT NULL, version {t.integer} NOT NULL){t.without_rowid}",
        f"CREATE TABLE IF NOT EXISTS case_workflow ( finding_id {t.text} PRIMARY KEY, investigation_id {t.text},"
        f" requested_by {t.text}){t.without_rowid}",
        "CREATE INDEX IF NOT EXISTS case_workflow_investigation_idx ON case_workflow (investigation_id)",
    )


def queue_ddl(t: Types) -> tuple[str, ...]:
    """The officers' queue's indexes and its owners table (projections.queue): findings by
    newest detection, time, severity and rank; cases by status and assignee; each finding
    filed under its subject's owners (a client, a contract)."""
    return (
        "CREATE INDEX IF NOT EXISTS findings_detected_idx ON findings (detected_at, seq)",
        "CREATE INDEX IF NOT EXISTS findings_occurred_idx ON findings (occurred_at, seq)",
        "CREATE INDEX IF NOT EXISTS findings_severity_detected_idx ON findings (severity, detected_at, seq)",
        f"CREATE INDEX IF NOT EXISTS findings_severity_rank_idx ON findings ({SEVERITY_RANK}, detected_at DESC, seq DESC)",
        "CREATE INDEX IF NOT EXISTS finding_cases_status_idx ON finding_cases (status, finding_id)",
        "CREATE INDEX IF NOT EXISTS finding_cases_assignee_idx ON finding_cases (assignee, finding_id)",
        f"CREATE TABLE IF NOT EXISTS finding_owners (owner {t.text} NOT NULL, seq {t.integer} NOT NULL,"
        f" PRIMARY KEY (owner, seq)){t.without_rowid}",
    )


def tokens_ddl(t: Types) -> tuple[str, ...]:
    """API tokens (ops/api): only the SHA-256 of a token is kept. A console session
    (projections.sessions) is opened with a token and keeps only the SHA-256 of its own id."""
    return (
        f"CREATE TABLE IF NOT EXISTS api_tokens ( token_hash {t.text} PRIMARY KEY, name {t.text} NOT NULL UNIQUE,"
        f" role {t.text} NOT NULL, created_at {t.instant} NOT NULL, revoked_at {t.instant}){t.without_rowid}",
        f"CREATE TABLE IF NOT EXISTS console_sessions ( session_hash {t.text} PRIMARY KEY,"
        f" token_hash {t.text} NOT NULL, opened_at {t.instant} NOT NULL, seen_at {t.instant} NOT NULL,"
        f" closed_at {t.instant}){t.without_rowid}",
    )


def snapshots_ddl(t: Types) -> tuple[str, ...]:
    """The monitor's state at each Hong Kong midnight (projections.monitor.snapshots): derived,
    written with the monitor's transaction, pruned to the newest few. (Upper case and a 32-bit
    count as first written: the text is part of the fingerprint.)"""
    return (
        f"CREATE TABLE IF NOT EXISTS monitor_snapshots ( position {t.integer.upper()} PRIMARY KEY,"
        f" records {t.blob.upper()} NOT NULL, record_count INTEGER NOT NULL, state_digest TEXT NOT NULL)",
    )


def notify_ddl(t: Types) -> tuple[str, ...]:
    """The notification outbox (projections.notify): one row per finding and channel, kept
    across rebuilds of the findings (it records what was sent to people, which no rebuild can
    undo), and each channel's position in the findings table."""
    return (
        f"CREATE TABLE IF NOT EXISTS notify_outbox ( channel {t.text} NOT NULL, finding_id {t.text} NOT NULL,"
        f" seq {t.integer} NOT NULL, payload {t.text} NOT NULL, attempts {t.integer} NOT NULL,"
        f" next_attempt_at {t.instant} NOT NULL, sent_at {t.instant}, last_error {t.text},"
        f" PRIMARY KEY (channel, finding_id)){t.without_rowid}",
        "CREATE INDEX IF NOT EXISTS notify_outbox_due_idx ON notify_outbox (sent_at, next_attempt_at)",
        f"CREATE TABLE IF NOT EXISTS notify_positions ( channel {t.text} PRIMARY KEY,"
        f" seq {t.integer} NOT NULL){t.without_rowid}",
    )


def merkle_ddl(t: Types) -> tuple[str, ...]:
    """The roots of the ledger's complete aligned Merkle subtrees of 256 leaves and more
    (``projections.store.merkle_subtrees``), written with the ledger's rows: proofs read them."""
    return (
        f"CREATE TABLE IF NOT EXISTS merkle_subtrees ( level {t.integer} NOT NULL, idx {t.integer} NOT NULL,"
        f" root {t.blob} NOT NULL, PRIMARY KEY (level, idx)){t.without_rowid}",
    )


def days_ddl(t: Types) -> tuple[str, ...]:
    """The ledger's upstream events by Hong Kong report day, the positions of those that move
    the insurance fund, and their latest time (``projections.audit.days``): written with the
    audit index."""
    return (
        f"CREATE TABLE IF NOT EXISTS ledger_days ( day {t.text} NOT NULL, type {t.text} NOT NULL,"
        f" events {t.integer} NOT NULL, first_position {t.integer} NOT NULL, last_position {t.integer} NOT NULL,"
        f" PRIMARY KEY (day, type)){t.without_rowid}",
        f"CREATE TABLE IF NOT EXISTS ledger_fund_events ( position {t.integer} PRIMARY KEY, day {t.text} NOT NULL,"
        f" delta {t.text})",
        f"CREATE TABLE IF NOT EXISTS ledger_clock ( name {t.text} PRIMARY KEY, occurred_at {t.instant} NOT NULL)",
    )


def quarantine_chain_columns(t: Types) -> tuple[str, str]:
    """What an older store's mutable quarantine gains when it is chained (quarantine_log.upgrade)."""
    return (
        f"ALTER TABLE quarantine ADD COLUMN previous_id {t.integer}",
        f"ALTER TABLE quarantine ADD COLUMN chain_hash {t.blob}",
    )


def tables_ddl(t: Types, ledger: tuple[str, ...], tracking: tuple[str, ...]) -> tuple[str, ...]:
    """Every table of the store, ledger first. A feature adds its own function of additive,
    idempotent DDL (CREATE ... IF NOT EXISTS) and names it here; a store whose recorded
    fingerprint differs from this schema's is migrated on open."""
    return (
        *ledger, *core_ddl(t), *tracking, *audit_ddl(t), *cases_ddl(t), *queue_ddl(t),
        *tokens_ddl(t), *snapshots_ddl(t), *notify_ddl(t), *merkle_ddl(t), *days_ddl(t),
    )
