"""Choices shared by several org models and by later apps (fees need identity documents)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityDocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")  # 居民身份证
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit", _("Residence permit for Hong Kong, Macao and Taiwan residents")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident", _("Foreign permanent resident ID card")
    PASSPORT = "passport", _("Passport")
    OTHER = "other", _("Other document")
