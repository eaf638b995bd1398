"""Reports for auditors: records of processing and a privacy impact summary, HTML and PDF."""

from goodthings.transparency.reports.processing import ProcessingRecord, build_record, held_now
from goodthings.transparency.reports.render import to_html, to_pdf

__all__ = ["ProcessingRecord", "build_record", "held_now", "to_html", "to_pdf"]
