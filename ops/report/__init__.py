"""Writing the nightly report: a self-contained HTML page, a JSON file and CSV tables."""

from ops.report.render import WrittenReport, write_report

__all__ = ["WrittenReport", "write_report"]
