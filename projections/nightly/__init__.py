"""The nightly report's read model: a Hong Kong day's findings, obligations, exposures,
insurance fund and quarantine, as of its cut-off."""

from projections.nightly.report import REPORT_FORMAT, build
from projections.nightly.window import Window, is_business_day, previous_business_day

__all__ = ["REPORT_FORMAT", "Window", "build", "is_business_day", "previous_business_day"]
