"""Numbers from the regulations for fixed assets, each with its source (domain-rules.md §2).

They are national defaults; a school changes its own in its asset settings (``AssetSettings``).
"""

from decimal import Decimal

from .choices import AccountingClass

# 《事业单位财务规则》(财政部令第108号, 2022) 第四十一条: 单位价值在1000元以上 (domain-rules.md §2.1).
CAPITALISE_THRESHOLD = Decimal("1000.00")

# Disposal approval limits are set locally; examples seen: ¥100,000 single item or ¥200,000 batch at
# municipal level (财政部令第36号 第二十六条, domain-rules.md §2.4). Above them: 主管部门 review, then 财政.
DISPOSAL_SINGLE_LIMIT = Decimal("100000.00")
DISPOSAL_BATCH_LIMIT = Decimal("200000.00")

# Classes whose disposal always goes to the bureau and finance (房屋建筑物、土地、车辆; §2.4).
ALWAYS_ESCALATE_CLASSES = {AccountingClass.BUILDINGS}

# A casual loan (a projector for a lesson) is due back the same day unless the lender says otherwise.
LOAN_DEFAULT_DAYS = 0

# 中小学校固定资产折旧年限表 (domain-rules.md §2.3, school table) for the categories shipped by default,
# and the GB/T 14885-2022 codes the rules file verifies (§2.2). A school imports its full code table.
SEED_CATEGORIES = [
    # code, name, parent code, accounting class, life (years, None = not depreciated)
    ("A01000000", "房屋和构筑物", None, AccountingClass.BUILDINGS, 50),
    ("A01010100", "办公用房", "A01000000", AccountingClass.BUILDINGS, 50),
    ("A02000000", "设备", None, AccountingClass.GENERAL_EQUIPMENT, 6),
    ("A02010105", "台式计算机", "A02000000", AccountingClass.GENERAL_EQUIPMENT, 6),
    ("A02010108", "便携式计算机", "A02000000", AccountingClass.GENERAL_EQUIPMENT, 6),
    ("A05000000", "家具和用具", None, AccountingClass.FURNITURE, 15),
    ("A05010304", "教学、实验椅凳", "A05000000", AccountingClass.FURNITURE, 5),
]

# Document numbers: prefix + year + 4-digit sequence, e.g. DB2026-0001.
DOC_PREFIXES = {"move": "LY", "transfer": "DB", "disposal": "CZ", "stocktake": "PD", "handover": "JJ",
                "repair": "WX", "loan": "JY"}
