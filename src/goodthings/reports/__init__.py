"""Reports for auditors: records of processing and a privacy impact summary, HTML and PDF."""

from goodthings.reports.processing import ProcessingRecord, build_record, held_now
from goodthings.reports.render import to_html, to_pdf

__all__ = ["ProcessingRecord", "build_record", "held_now", "to_html", "to_pdf"]
