"""Who owns the renewal: the four retention models."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class RetentionModel(StrEnum):
    CLEAN_HANDOFF = "A"
    AE_RETAINS = "B"
    AM_BRIDGE = "C"
    TIERED = "D"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    RetentionModel.CLEAN_HANDOFF: "A · Clean handoff: the CSM owns everything after the transition",
    RetentionModel.AE_RETAINS: "B · AE retains commercial: AE owns pricing and expansion",
    RetentionModel.AM_BRIDGE: "C · AM bridge: a dedicated AM owns the renewal",
    RetentionModel.TIERED: "D · Tiered by ARR: A below the threshold, B at or above it",
}


def suggested_model(arr: Decimal, threshold: Decimal) -> RetentionModel:
    """The model to pre-select: clean handoff below the ARR threshold, AE-retained at or above."""
    return RetentionModel.AE_RETAINS if arr >= threshold else RetentionModel.CLEAN_HANDOFF


def resolved_model(model: RetentionModel, arr: Decimal, threshold: Decimal) -> RetentionModel:
    """The model in effect: a tiered account runs as A below the threshold, B at or above."""
    if model == RetentionModel.TIERED:
        return suggested_model(arr, threshold)
    return model
