"""The officers' alert queue (paged, sorted, filtered findings with their cases)."""

from projections.queue.owners import catch_up_owners
from projections.queue.query import (
    PAGE_ROWS_MAX,
    SORTS,
    QueuePage,
    QueueQuery,
    QueueRow,
    queue_page,
)

__all__ = ["PAGE_ROWS_MAX", "SORTS", "QueuePage", "QueueQuery", "QueueRow", "catch_up_owners", "queue_page"]
