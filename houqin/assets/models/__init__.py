"""Fixed assets (AST): cards, the journal, lifecycle documents, stocktakes and handovers."""

from .cards import Asset, AssetCategory, AssetMovement, AssetSettings, Counter, FundingProject, LowValueItem
from .contracting import ClassContract, ClassContractLine, ContractCheck, ContractCheckLine, DamageRecord
from .documents import AssetDisposal, AssetDisposalLine, AssetLoan, AssetMove, AssetMoveLine, AssetRepair
from .intangibles import AmortisationLine, ConstructionCost, ConstructionProject, IntangibleAsset
from .leases import IdleRoom, Lease, RentInstallment, RentPayOver, RentReceipt, Tenant
from .ledger import (
    AccountingPeriod,
    DepreciationLine,
    DepreciationRun,
    FinanceBalance,
    FiscalExportColumn,
    ReconciliationNote,
)
from .stocktake import Handover, HandoverLine, Stocktake, StocktakeLine

__all__ = [
    "ClassContract", "ClassContractLine", "ContractCheck", "ContractCheckLine", "DamageRecord",
    "AmortisationLine", "ConstructionCost", "ConstructionProject", "IntangibleAsset",
    "AccountingPeriod", "DepreciationLine", "DepreciationRun", "FinanceBalance", "FiscalExportColumn",
    "ReconciliationNote",
    "IdleRoom", "Lease", "RentInstallment", "RentPayOver", "RentReceipt", "Tenant",
    "Asset", "AssetCategory", "AssetDisposal", "AssetDisposalLine", "AssetLoan", "AssetMove", "AssetMoveLine",
    "AssetMovement", "AssetRepair", "AssetSettings", "Counter", "FundingProject", "Handover", "HandoverLine",
    "LowValueItem", "Stocktake", "StocktakeLine",
]
