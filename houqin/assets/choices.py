"""Choices shared by several asset models (domain-rules.md §2)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountingClass(models.TextChoices):
    """The 准则3号 accounting classes (《政府会计准则第3号——固定资产》, domain-rules.md §2.2).

    Kept separate from the GB/T 14885 category: the 2022 standard "不改变现有会计准则制度中对资产类
    会计科目的定义和分类".
    """

    BUILDINGS = "buildings", _("Buildings and structures")
    SPECIAL_EQUIPMENT = "special", _("Special equipment")
    GENERAL_EQUIPMENT = "general", _("General equipment")
    RELICS = "relics", _("Cultural relics and exhibits")
    BOOKS = "books", _("Books and archives")
    FURNITURE = "furniture", _("Furniture, utensils, fittings, animals and plants")


# The lines of the monthly 对账表 (AST-10): the fixed-asset classes, and the intangible assets (1701 无形资产 /
# 1702 无形资产累计摊销), which the finance ledger also holds. Not a class a card can have.
INTANGIBLE = "intangible"
LEDGER_CLASSES = [*AccountingClass.choices, (INTANGIBLE, _("Intangible assets"))]


# Classes never depreciated (准则3号; domain-rules.md §2.3 "Never depreciated").
NON_DEPRECIABLE_CLASSES = {AccountingClass.RELICS, AccountingClass.BOOKS}


class FundingSource(models.TextChoices):
    """资金来源: the 对账表 of Fixed assets II compares balances by this (AST-10)."""

    FISCAL = "fiscal", _("Fiscal appropriation")
    SPECIAL = "special", _("Special fund")
    OWN = "own", _("Own funds (non-fiscal)")
    DONATION = "donation", _("Donation")
    OTHER = "other", _("Other")


class ValuationType(models.TextChoices):
    """价值类型 (domain-rules.md §2.5). Nominal-value (名义金额, ¥1) assets are never depreciated."""

    COST = "cost", _("Actual cost")
    APPRAISED = "appraised", _("Appraised value")
    REPLACEMENT = "replacement", _("Replacement value")
    NOMINAL = "nominal", _("Nominal amount")


class Acquisition(models.TextChoices):
    """取得方式 (domain-rules.md §2.5). 校企合作 equipment is tracked but not owned (AST-12)."""

    PURCHASE = "purchase", _("Purchase")
    TRANSFER_IN = "transfer_in", _("Transferred in")
    DONATION = "donation", _("Donation received")
    SELF_BUILT = "self_built", _("Self-built")
    EXCHANGE = "exchange", _("Exchange")
    SURPLUS = "surplus", _("Stocktake surplus")
    PARTNER_LENT = "partner_lent", _("Lent by a partner company")


class UseStatus(models.TextChoices):
    """使用状况 of a card or a low-value item, derived from the asset journal."""

    IN_STORE = "in_store", _("In store")
    IN_USE = "in_use", pgettext_lazy("asset status", "In use")
    IDLE = "idle", _("Idle")
    LENT = "lent", _("Lent out")
    REPAIR = "repair", _("Under repair")
    DISPOSING = "disposing", _("Disposal pending")
    DISPOSED = "disposed", _("Disposed of")


# A card in one of these states has left the books or is locked by a document.
GONE = {UseStatus.DISPOSED}
LOCKED = {UseStatus.DISPOSING}
