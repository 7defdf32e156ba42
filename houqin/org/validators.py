"""Validation of identity numbers, mobile numbers and names (domain-rules.md §6.1, §6.3, §6.6)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import IdentityDocumentType as Doc

# GB 11643-1999, ISO 7064 MOD 11-2: W_i = 2^(18-i) mod 11 (domain-rules §6.1).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Province prefixes of resident ID numbers (domain-rules §6.1): 11–15, 21–23, 31–37, 41–46, 50–54,
# 61–65, 71, 81, 82, 83.
PROVINCES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82, 83]
)
RESIDENT_18 = re.compile(r"^[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]$")
RESIDENT_15 = re.compile(r"^[1-9]\d{5}\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}$")
HMT_PREFIXES = ("810000", "820000", "830000")  # 港澳台居民居住证 (domain-rules §6.1 🟡)
FOREIGN_PR_OLD = re.compile(r"^[A-Z]{3}\d{12}$")
HK_MACAO = re.compile(r"^[HM]\d{8}(\d{2})?$")
TAIWAN = re.compile(r"^\d{8}(\d{2})?$")
PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")

# Mainland mobile numbers (domain-rules §6.3): loose check for forms, strict prefix list to warn.
MOBILE_LOOSE = re.compile(r"^1[3-9]\d{9}$")
MOBILE_STRICT = re.compile(r"^1(3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}$")

NAME_FORBIDDEN = re.compile(r"[\d<>{}\[\]()\\/@#$%^&*=+|;:\"'`~!?，,。]")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class IdentityNumber:
    number: str
    legacy_number: str = ""
    birth_date: datetime.date | None = None
    sex: str = ""
    checksum_ok: bool = True


def _birth_date(digits: str, today: datetime.date) -> datetime.date:
    try:
        born = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ValidationError(_("The birth date in the identity number does not exist."), code="birth_date") from None
    if born > today or born.year < 1900:
        raise ValidationError(_("The birth date in the identity number is not possible."), code="birth_date")
    return born


def _parse_18(value: str, *, allow_bad_checksum: bool, today: datetime.date, hmt: bool = False) -> IdentityNumber:
    if not RESIDENT_18.match(value):
        raise ValidationError(_("An identity number has 18 characters: 17 digits and a digit or X."), code="format")
    if hmt:
        if not value.startswith(HMT_PREFIXES):
            raise ValidationError(
                _("A Hong Kong, Macao or Taiwan residence permit number starts with 810000, 820000 or 830000."),
                code="province",
            )
    elif int(value[:2]) not in PROVINCES:
        raise ValidationError(_("The first two digits are not a province code."), code="province")
    born = _birth_date(value[6:14], today)
    ok = id_check_char(value[:17]) == value[17]
    if not ok and not allow_bad_checksum:
        raise ValidationError(
            _("The check digit is wrong (GB 11643): please check the number against the card."), code="checksum"
        )
    return IdentityNumber(value, "", born, "M" if int(value[16]) % 2 else "F", ok)


def parse_identity_number(
    doc_type: str, value: str, *, allow_bad_checksum: bool = False, today: datetime.date | None = None
) -> IdentityNumber:
    """Validate and normalise an identity document number; raise ValidationError with a code.

    Codes: required, format, province, birth_date, checksum. A failed check digit is accepted
    only with ``allow_bad_checksum`` (an authorised override with a reason, domain-rules §6.1).
    """
    today = today or timezone.localdate()
    value = re.sub(r"\s", "", value or "").upper()  # a lower-case x is normalised to X
    if not value:
        raise ValidationError(_("Enter the identity number."), code="required")
    if doc_type == Doc.RESIDENT_ID:
        if len(value) == 15:
            # Pre-1999 15-digit numbers: insert "19" and compute the check digit; keep both forms.
            if not RESIDENT_15.match(value):
                raise ValidationError(_("A 15-digit identity number has only digits."), code="format")
            if int(value[:2]) not in PROVINCES:
                raise ValidationError(_("The first two digits are not a province code."), code="province")
            born = _birth_date("19" + value[6:12], today)
            first17 = value[:6] + "19" + value[6:]
            return IdentityNumber(first17 + id_check_char(first17), value, born, "M" if int(value[14]) % 2 else "F")
        return _parse_18(value, allow_bad_checksum=allow_bad_checksum, today=today)
    if doc_type == Doc.HMT_RESIDENCE_PERMIT:
        return _parse_18(value, allow_bad_checksum=allow_bad_checksum, today=today, hmt=True)
    if doc_type == Doc.FOREIGN_PERMANENT_RESIDENT:
        if FOREIGN_PR_OLD.match(value):
            return IdentityNumber(value)
        if len(value) == 18 and value.startswith("9") and value[:17].isdigit():
            # The 2023 card: 18 digits starting with 9, believed to use the same checksum (🔴).
            born = _birth_date(value[6:14], today)
            ok = id_check_char(value[:17]) == value[17]
            if not ok and not allow_bad_checksum:
                raise ValidationError(_("The check digit is wrong: please check the number against the card."),
                                      code="checksum")
            return IdentityNumber(value, "", born, "M" if int(value[16]) % 2 else "F", ok)
        raise ValidationError(_("A foreign permanent resident ID has 18 digits starting with 9, or 3 letters and 12 digits."),
                              code="format")
    patterns = {
        Doc.HK_MACAO_PERMIT: (HK_MACAO, _("A Hong Kong or Macao permit number is H or M followed by 8 or 10 digits.")),
        Doc.TAIWAN_PERMIT: (TAIWAN, _("A Taiwan permit number has 8 or 10 digits.")),
        Doc.PASSPORT: (PASSPORT, _("A passport number has 5 to 17 letters and digits.")),
    }
    if doc_type in patterns:
        pattern, message = patterns[doc_type]
        if not pattern.match(value):
            raise ValidationError(message, code="format")
        return IdentityNumber(value)
    if doc_type == Doc.OTHER:
        if not 2 <= len(value) <= 30:
            raise ValidationError(_("Enter 2 to 30 characters."), code="format")
        return IdentityNumber(value)
    raise ValidationError(_("Unknown identity document type."), code="format")


def mask_identity_number(value: str) -> str:
    """Mask a number for display: 110105********002X (first 6 and last 4 kept)."""
    if not value:
        return ""
    if len(value) >= 15:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    if len(value) > 5:
        return value[:3] + "*" * (len(value) - 5) + value[-2:]
    return "*" * len(value)


def normalize_mobile(value: str) -> str:
    """Strip +86/0086, spaces and hyphens; return 11 digits or raise (domain-rules §6.3)."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not MOBILE_LOOSE.match(digits):
        raise ValidationError(_("Enter an 11-digit mainland mobile number starting with 1."), code="mobile")
    return digits


def mobile_is_strict(value: str) -> bool:
    """True when the number's prefix is in the MIIT allocation list (a form may warn otherwise)."""
    return bool(MOBILE_STRICT.match(value or ""))


def validate_mobile(value: str) -> None:
    if value and not MOBILE_LOOSE.match(value):
        raise ValidationError(_("Enter an 11-digit mainland mobile number starting with 1."), code="mobile")


def validate_person_name(value: str) -> None:
    """Chinese names may contain "·" and rare characters beyond the basic block (domain-rules §6.6)."""
    if not value or not value.strip():
        raise ValidationError(_("Enter the name."), code="required")
    if len(value) > 50:
        raise ValidationError(_("A name has at most 50 characters."), code="max_length")
    if NAME_FORBIDDEN.search(value):
        raise ValidationError(_("A name cannot contain digits or symbols."), code="name")
