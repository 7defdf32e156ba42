"""Validation of identity numbers, mobile numbers and person names.

The rules come from ``/work/shared/spec/domain-rules.md``:

* §6.1 resident ID numbers (GB 11643-1999, ISO 7064 MOD 11-2) and the related permits;
* §6.3 mainland mobile numbers (MIIT numbering plan);
* §6.6 Chinese names (the middle dot and rare characters).

Every error is a ``django.core.exceptions.ValidationError`` with a ``code``, so that forms, services
and the API can react to the kind of error (for instance offer a checksum override) without
parsing the message. The design rule of domain-rules.md ("block on format errors, warn on
checksum failures") is followed: only the check digit can be overridden, with
``allow_bad_checksum=True``, by an authorised user who records a reason.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import IdentityDocumentType as Doc

# --- §6.1 resident ID numbers, GB 11643-1999 ---------------------------------------------------

# ISO 7064 MOD 11-2 weights for positions 1–17: W_i = 2^(18−i) mod 11 (§6.1).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for r = S mod 11 = 0..10 (§6.1): "1 0 X 9 8 7 6 5 4 3 2".
ID_CHECK_CHARS = "10X98765432"

# Province prefixes to accept (§6.1): 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81, 82, 83.
PROVINCES = frozenset(
    {
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    }
)
# The regex prefilter of §6.1, verbatim. re.ASCII: "\d" must not match full-width or other digits.
RESIDENT_18 = re.compile(
    r"^[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]$", re.ASCII
)
# Pre-1999 15-digit numbers (§6.1): 6 address + YYMMDD + 3 sequence, no check digit.
RESIDENT_15 = re.compile(r"^[1-9]\d{5}\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}$", re.ASCII)
# Shape checks made before the prefilter, so that a well-shaped number with a bad province or date
# gets the precise error code ("province", "birth_date") instead of "format".
SHAPE_18 = re.compile(r"\d{17}[\dX]", re.ASCII)
SHAPE_15 = re.compile(r"\d{15}", re.ASCII)
# Residence permits for Hong Kong, Macao and Taiwan residents: 18 digits, same checksum (§6.1 🟡).
HMT_PREFIXES = ("810000", "820000", "830000")
# The 2023 foreign permanent-resident ID: 18 digits starting with 9, same checksum believed (§6.1 🔴).
FOREIGN_PR_2023 = re.compile(r"9\d{16}[\dX]", re.ASCII)
# The older foreign permanent-resident ID: 3 letters (nationality) + 12 digits; format check only.
FOREIGN_PR_OLD = re.compile(r"[A-Z]{3}\d{12}", re.ASCII)
HK_MACAO = re.compile(r"^[HM]\d{8}(\d{2})?$", re.ASCII)  # 港澳居民来往内地通行证
TAIWAN = re.compile(r"^\d{8}(\d{2})?$", re.ASCII)  # 台湾居民来往大陆通行证
PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$", re.ASCII)
OTHER_MIN_LENGTH, OTHER_MAX_LENGTH = 2, 30
# Births before 1900 are refused by default (the brief); §6.1 itself only says "not in the future".
EARLIEST_BIRTH_YEAR = 1900

# --- §6.3 mainland mobile numbers ----------------------------------------------------------------

# Loose check, recommended for forms (§6.3).
MOBILE_LOOSE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# Strict check on the MIIT prefix list of March 2023, warn only (§6.3): 130–139; 145–149; 150–153,
# 155–159; 162, 165–167; 170–178; 180–189; 190–193, 195–199.
MOBILE_STRICT = re.compile(r"^1(3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}$", re.ASCII)
# "Strip +86, 0086, spaces and hyphens first" (§6.3); a bare "86" only when 11 digits follow.
MOBILE_COUNTRY_PREFIX = re.compile(r"(?:\+86|0086|86)(\d{11})", re.ASCII)
MOBILE_SEPARATORS = re.compile(r"[\s-]+")

# --- §6.6 person names ---------------------------------------------------------------------------

NAME_MAX_LENGTH = 50
# "·" U+00B7 is the standard separator of ethnic-minority and foreign names (§6.6); "•" U+2022,
# "・" U+30FB and "‧" U+2027 are what input methods often produce instead.
NAME_MIDDLE_DOTS = frozenset("\u00b7\u2022\u30fb\u2027")
# Joiners allowed only between two Latin letters: Jean-Pierre, O'Neil.
NAME_LATIN_JOINERS = frozenset("-'\u2019")
# Han ideographs, deliberately not restricted to U+4E00–U+9FA5 (§6.6): extension A, the unified
# block, compatibility ideographs, and the whole of planes 2 and 3 (extensions B–I).
CJK_RANGES = (
    (0x3007, 0x3007),  # 〇, used as a character in a few names
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A (㐀)
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs (some, like 﨑, are used in names)
    (0x20000, 0x3FFFF),  # Supplementary and Tertiary Ideographic Planes (𠀀, extensions B–I)
)


def id_check_char(first17: str) -> str:
    """Return the GB 11643 check character (``0``–``9`` or ``X``) of the first 17 digits.

    ISO 7064 MOD 11-2 as in domain-rules.md §6.1: ``S = Σ a_i × W_i``, ``r = S mod 11``, and the
    check character is position ``r`` of ``"10X98765432"``. Raise ``ValueError`` when
    ``first17`` is not exactly 17 ASCII digits (a programming error, not a user error).
    """
    if not (len(first17) == 17 and first17.isascii() and first17.isdigit()):
        raise ValueError("id_check_char() needs exactly 17 ASCII digits")
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class IdentityNumber:
    """A validated identity document number.

    ``number`` is the normalised form to store (no spaces, upper case, a 15-digit resident ID
    converted to 18 characters); ``legacy_number`` is the original 15-digit number or "".
    ``birth_date`` and ``sex`` ("M", "F" or "") are read from the number when its format carries
    them. ``checksum_ok`` is False only when a failed check digit was accepted with
    ``allow_bad_checksum``.
    """

    number: str
    legacy_number: str = ""
    birth_date: datetime.date | None = None
    sex: str = ""
    checksum_ok: bool = True


def _sex(digit: str) -> str:
    """The 17th digit of an 18-digit number (15th of a 15-digit one): odd male, even female (§6.1)."""
    return "M" if int(digit) % 2 else "F"


def _birth_date(yyyymmdd: str, today: datetime.date, min_year: int) -> datetime.date:
    """Return the birth date; it must exist (§6.1), not be in the future (§6.1), nor before ``min_year``."""
    try:
        born = datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise ValidationError(
            _("The birth date in the identity number does not exist."), code="birth_date"
        ) from None
    if born > today:
        raise ValidationError(_("The birth date in the identity number is in the future."), code="birth_date")
    if born.year < min_year:
        raise ValidationError(
            _("The birth date in the identity number is before %(year)s."),
            code="birth_date",
            params={"year": min_year},
        )
    return born


def _check_digit(value: str, *, allow_bad_checksum: bool, foreign: bool = False) -> bool:
    """Compare the 18th character with the computed check character; raise unless overridable."""
    ok = id_check_char(value[:17]) == value[17]
    if not ok and not allow_bad_checksum:
        if foreign:
            message = _("The check digit is wrong: please check the number against the card.")
        else:
            message = _("The check digit is wrong (GB 11643): please check the number against the card.")
        raise ValidationError(message, code="checksum")
    return ok


def _parse_18(
    value: str, *, hmt: bool, allow_bad_checksum: bool, today: datetime.date, min_year: int
) -> IdentityNumber:
    """Validate an 18-character resident ID or HMT residence permit number (§6.1).

    Order: shape, province (or the 810000/820000/830000 prefix of a permit), the §6.1 regex
    prefilter, the date, the checksum.
    """
    if not SHAPE_18.fullmatch(value):
        if hmt:
            message = _("An identity number has 18 characters: 17 digits and a digit or X.")
        else:
            message = _(
                "A resident ID number has 18 characters (17 digits, then a digit or X), "
                "or 15 digits on an old card."
            )
        raise ValidationError(message, code="format")
    if hmt:
        if not value.startswith(HMT_PREFIXES):
            raise ValidationError(
                _(
                    "A Hong Kong, Macao or Taiwan residence permit number starts with 810000, 820000 or 830000."
                ),
                code="province",
            )
    elif int(value[:2]) not in PROVINCES:
        raise ValidationError(_("The first two digits are not a province code."), code="province")
    if not RESIDENT_18.fullmatch(value):
        # Shape and province are fine, so the prefilter failed on the century, month or day.
        raise ValidationError(_("The birth date in the identity number does not exist."), code="birth_date")
    born = _birth_date(value[6:14], today, min_year)
    ok = _check_digit(value, allow_bad_checksum=allow_bad_checksum)
    return IdentityNumber(number=value, birth_date=born, sex=_sex(value[16]), checksum_ok=ok)


def _parse_15(value: str, *, today: datetime.date, min_year: int) -> IdentityNumber:
    """Convert a pre-1999 15-digit resident ID: insert "19" and compute the check digit (§6.1)."""
    if not SHAPE_15.fullmatch(value):
        raise ValidationError(_("A 15-digit identity number has only digits."), code="format")
    if int(value[:2]) not in PROVINCES:
        raise ValidationError(_("The first two digits are not a province code."), code="province")
    if not RESIDENT_15.fullmatch(value):
        raise ValidationError(_("The birth date in the identity number does not exist."), code="birth_date")
    born = _birth_date("19" + value[6:12], today, min_year)
    first17 = value[:6] + "19" + value[6:]
    return IdentityNumber(
        number=first17 + id_check_char(first17), legacy_number=value, birth_date=born, sex=_sex(value[14])
    )


def _normalize_document_number(value: str) -> str:
    """NFKC (full-width digits and letters become ASCII), no whitespace, upper case (x → X)."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def parse_identity_number(
    doc_type: str,
    value: str,
    *,
    allow_bad_checksum: bool = False,
    today: datetime.date | None = None,
    min_birth_year: int = EARLIEST_BIRTH_YEAR,
) -> IdentityNumber:
    """Validate and normalise an identity document number of type ``doc_type``.

    ``doc_type`` is an ``IdentityDocumentType`` value. Spaces are removed, full-width characters
    are folded to ASCII and letters upper-cased, so a lower-case ``x`` check character becomes
    ``X`` (§6.1). Raise ``ValidationError`` with one of these codes:

    * ``required``: nothing entered;
    * ``format``: wrong length or characters for the document type;
    * ``province``: the first two digits are not a province code (§6.1 list), or a Hong Kong,
      Macao or Taiwan residence permit does not start with 810000, 820000 or 830000;
    * ``birth_date``: the date does not exist (e.g. 19990230), is in the future, or is before
      ``min_birth_year`` (1900 by default; the §6.1 prefilter itself allows 18xx, and its second
      worked example 440524188001010014 is born in 1880);
    * ``checksum``: the GB 11643 check character is wrong; only when ``allow_bad_checksum`` is
      False, otherwise the number is returned with ``checksum_ok=False`` (an authorised override
      with a recorded reason, domain-rules.md design consequence 3);
    * ``invalid_choice``: ``doc_type`` is not a known document type.

    ``today`` (default: the local date) and ``min_birth_year`` bound the birth date.
    """
    today = today or timezone.localdate()
    value = _normalize_document_number(value)
    if not value:
        raise ValidationError(_("Enter the identity number."), code="required")

    if doc_type == Doc.RESIDENT_ID:
        if len(value) == 15:
            return _parse_15(value, today=today, min_year=min_birth_year)
        return _parse_18(
            value, hmt=False, allow_bad_checksum=allow_bad_checksum, today=today, min_year=min_birth_year
        )

    if doc_type == Doc.HMT_RESIDENCE_PERMIT:
        return _parse_18(
            value, hmt=True, allow_bad_checksum=allow_bad_checksum, today=today, min_year=min_birth_year
        )

    if doc_type == Doc.FOREIGN_PERMANENT_RESIDENT:
        if FOREIGN_PR_OLD.fullmatch(value):
            return IdentityNumber(number=value)
        if FOREIGN_PR_2023.fullmatch(value):
            # The 2023 card (§6.1 🔴: "18 digits starting with 9", same checksum believed). The birth
            # date in positions 7–14 (after "9", a 2-digit province and a 3-digit nationality code)
            # is from memory of the 2023 announcement, not from the spec: verify before relying on it.
            # A failed checksum is overridable like the others.
            born = _birth_date(value[6:14], today, min_birth_year)
            ok = _check_digit(value, allow_bad_checksum=allow_bad_checksum, foreign=True)
            return IdentityNumber(number=value, birth_date=born, sex=_sex(value[16]), checksum_ok=ok)
        raise ValidationError(
            _("A foreign permanent resident ID has 18 digits starting with 9, or 3 letters and 12 digits."),
            code="format",
        )

    if doc_type == Doc.HK_MACAO_PERMIT:
        if not HK_MACAO.fullmatch(value):
            raise ValidationError(
                _("A Hong Kong or Macao permit number is H or M followed by 8 or 10 digits."), code="format"
            )
        return IdentityNumber(number=value)

    if doc_type == Doc.TAIWAN_PERMIT:
        if not TAIWAN.fullmatch(value):
            raise ValidationError(_("A Taiwan permit number has 8 or 10 digits."), code="format")
        return IdentityNumber(number=value)

    if doc_type == Doc.PASSPORT:
        if not PASSPORT.fullmatch(value):
            raise ValidationError(_("A passport number has 5 to 17 letters and digits."), code="format")
        return IdentityNumber(number=value)

    if doc_type == Doc.OTHER:
        if not (OTHER_MIN_LENGTH <= len(value) <= OTHER_MAX_LENGTH and value.isprintable()):
            raise ValidationError(_("Enter 2 to 30 characters."), code="format")
        return IdentityNumber(number=value)

    raise ValidationError(_("Unknown identity document type."), code="invalid_choice")


def mask_identity_number(value: str) -> str:
    """Mask a number for display, keeping its length.

    18 characters or more: the first 6 and last 4 are kept (``110105********002X``). Shorter
    numbers keep the first 3 and last 2 when at least 3 characters stay hidden (8 characters or
    more), otherwise only the first and last character (4 to 7 characters); 3 characters or fewer
    are hidden entirely. "" stays "".
    """
    value = value or ""
    n = len(value)
    if n >= 18:
        head, tail = 6, 4
    elif n >= 8:
        head, tail = 3, 2
    elif n >= 4:
        head, tail = 1, 1
    else:
        return "*" * n
    return value[:head] + "*" * (n - head - tail) + value[n - tail :]


def normalize_mobile(value: str) -> str:
    """Return a mainland mobile number as 11 digits, or raise ``ValidationError`` (code ``mobile``).

    As in domain-rules.md §6.3: full-width characters are folded to ASCII, spaces and hyphens are
    removed, a ``+86`` / ``0086`` / ``86`` country prefix is removed when exactly 11 digits follow,
    and the result must pass the loose check ``^1[3-9]\\d{9}$``. Stored without ``+86``.
    """
    digits = MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))
    prefixed = MOBILE_COUNTRY_PREFIX.fullmatch(digits)
    if prefixed:
        digits = prefixed.group(1)
    if not MOBILE_LOOSE.fullmatch(digits):
        raise ValidationError(_("Enter an 11-digit mainland mobile number starting with 1."), code="mobile")
    return digits


def mobile_is_strict(value: str) -> bool:
    """Return True when the number's prefix is on the MIIT allocation list (§6.3 strict check).

    Accepts a raw or a normalised number; an invalid number gives False. A form may show a warning
    (not an error) on False, since new prefixes are allocated from time to time.
    """
    try:
        return bool(MOBILE_STRICT.fullmatch(normalize_mobile(value)))
    except ValidationError:
        return False


def validate_mobile(value: str) -> None:
    """Model-field validator: the stored value must be a normalised 11-digit mobile number (§6.3).

    Services normalise input with ``normalize_mobile`` before saving; this only checks the loose
    pattern, so normalised values always pass. Empty values pass (Django skips validators on blank
    values anyway; ``blank`` decides whether the field is required).
    """
    if value and not MOBILE_LOOSE.fullmatch(value):
        raise ValidationError(_("Enter an 11-digit mainland mobile number starting with 1."), code="mobile")


def _is_cjk(ch: str) -> bool:
    """True for a Han ideograph, including the extension blocks (§6.6)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def _is_latin_letter(ch: str) -> bool:
    """True for a Latin letter, including accented ones (José, Müller)."""
    if ch.isascii():
        return ch.isalpha()
    return unicodedata.category(ch).startswith("L") and "LATIN" in unicodedata.name(ch, "")


def _shown(ch: str) -> str:
    """How to show a refused character in a message: itself, or U+XXXX when it is invisible."""
    return ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"


def validate_person_name(value: str) -> None:
    """Validate a person's name: Chinese, ethnic-minority or foreign (domain-rules.md §6.6).

    Allowed: any Han ideograph including the extension blocks (𠀀, 㐀; not only U+4E00–U+9FA5),
    Latin letters (accented ones too), spaces, the middle dot "·" (and the look-alikes "•", "・",
    "‧") between two parts of the name, and a hyphen or apostrophe between two Latin letters.
    Refused, with code ``required``, ``max_length`` or ``name``: empty or whitespace-only values,
    more than 50 characters, digits, symbols such as ``<>{}``, other whitespace, a name without any
    letter, and a middle dot at the start, at the end or next to another separator.
    """
    if not value or not value.strip():
        raise ValidationError(_("Enter the name."), code="required")
    if len(value) > NAME_MAX_LENGTH:
        raise ValidationError(_("A name has at most 50 characters."), code="max_length")
    text = unicodedata.normalize("NFC", value)  # a decomposed "é" is checked as one letter
    has_letter = False
    for i, ch in enumerate(text):
        if _is_cjk(ch) or _is_latin_letter(ch):
            has_letter = True
            continue
        if ch == " ":
            continue
        before, after = text[i - 1 : i], text[i + 1 : i + 2]
        if ch in NAME_MIDDLE_DOTS:
            if not (before and after) or before in NAME_MIDDLE_DOTS or after in NAME_MIDDLE_DOTS:
                raise ValidationError(
                    _("The middle dot “·” must stand between two parts of the name."), code="name"
                )
            continue
        if (
            ch in NAME_LATIN_JOINERS
            and before
            and after
            and _is_latin_letter(before)
            and _is_latin_letter(after)
        ):
            continue
        raise ValidationError(
            _(
                "“%(char)s” cannot be used in a name: use Chinese characters, Latin letters, spaces "
                "and the middle dot “·”."
            ),
            code="name",
            params={"char": _shown(ch)},
        )
    if not has_letter:
        raise ValidationError(
            _("A name must contain at least one Chinese character or Latin letter."), code="name"
        )
