"""Objections to automated decisions and profiling, per person and stream."""

from goodthings.rights.objections.records import Objection, current, history, objected, record

__all__ = ["Objection", "current", "history", "objected", "record"]
