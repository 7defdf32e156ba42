"""Choices shared by several org models and by later apps (fees also need identity documents)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityDocumentType(models.TextChoices):
    """The identity documents a student or staff member may be registered with.

    ``houqin.org.validators.parse_identity_number`` holds the format rules for each type
    (domain-rules.md §6.1). The labels are in migration 0001 of the org app: a label change needs a
    new migration.
    """

    RESIDENT_ID = "resident_id", _("Resident ID card")  # 居民身份证
    HMT_RESIDENCE_PERMIT = (  # 港澳台居民居住证
        "hmt_residence_permit",
        _("Residence permit for Hong Kong, Macao and Taiwan residents"),
    )
    HK_MACAO_PERMIT = (  # 港澳居民来往内地通行证
        "hk_macao_permit",
        _("Mainland travel permit for Hong Kong and Macao residents"),
    )
    TAIWAN_PERMIT = (
        "taiwan_permit",
        _("Mainland travel permit for Taiwan residents"),
    )  # 台湾居民来往大陆通行证
    FOREIGN_PERMANENT_RESIDENT = (  # 外国人永久居留身份证
        "foreign_permanent_resident",
        _("Foreign permanent resident ID card"),
    )
    PASSPORT = "passport", _("Passport")  # 护照
    OTHER = "other", _("Other document")  # 其他（证件）
