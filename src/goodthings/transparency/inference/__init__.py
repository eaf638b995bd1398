"""Correlation disclosures: what combinations of streams reveal beyond each stream alone."""

from goodthings.transparency.inference.catalogue import RULES, Rule, signals_of
from goodthings.transparency.inference.evaluate import Inference, evaluate, new_inferences

__all__ = ["RULES", "Inference", "Rule", "evaluate", "new_inferences", "signals_of"]
