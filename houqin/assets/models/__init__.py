"""Fixed assets (AST): cards, the journal, lifecycle documents, stocktakes and handovers."""

from .cards import Asset, AssetCategory, AssetMovement, AssetSettings, Counter, FundingProject, LowValueItem
from .documents import AssetDisposal, AssetDisposalLine, AssetLoan, AssetMove, AssetMoveLine, AssetRepair
from .stocktake import Handover, HandoverLine, Stocktake, StocktakeLine

__all__ = [
    "Asset", "AssetCategory", "AssetDisposal", "AssetDisposalLine", "AssetLoan", "AssetMove", "AssetMoveLine",
    "AssetMovement", "AssetRepair", "AssetSettings", "Counter", "FundingProject", "Handover", "HandoverLine",
    "LowValueItem", "Stocktake", "StocktakeLine",
]
