"""Identity numbers, mobile numbers and names (domain-rules.md §6.1, §6.3, §6.6). No database needed."""

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from houqin.org.choices import IdentityDocumentType as Doc
from houqin.org.validators import (
    ID_WEIGHTS,
    PROVINCES,
    IdentityNumber,
    id_check_char,
    mask_identity_number,
    mobile_is_strict,
    normalize_mobile,
    parse_identity_number,
    validate_mobile,
    validate_person_name,
)

TODAY = datetime.date(2025, 6, 1)
# No example database in the working tree; examples are cheap, so run a fair number of them.
PROPERTY = settings(max_examples=300, database=None, deadline=None)


def parse(value, doc_type=Doc.RESIDENT_ID, **kwargs):
    """parse_identity_number with a fixed "today", so the tests do not depend on the clock."""
    kwargs.setdefault("today", TODAY)
    return parse_identity_number(doc_type, value, **kwargs)


def error_code(value, doc_type=Doc.RESIDENT_ID, **kwargs):
    """The code of the ValidationError that parsing ``value`` raises."""
    with pytest.raises(ValidationError) as exc:
        parse(value, doc_type, **kwargs)
    return exc.value.code


def with_check(first17):
    """A number made valid by appending its check character."""
    return first17 + id_check_char(first17)


def wrong_check(number):
    """The same number with a wrong check character."""
    return number[:17] + ("0" if number[17] != "0" else "1")


# --- check character (§6.1) --------------------------------------------------------------------


def test_weights_are_powers_of_two_mod_11():
    """W_i = 2^(18−i) mod 11 for i = 1..17, as stated in §6.1."""
    assert tuple(pow(2, 18 - i, 11) for i in range(1, 18)) == ID_WEIGHTS


def test_check_char_of_the_standard_examples():
    """The two worked examples of §6.1: S = 167 → X, and S = 195 → 4."""
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"


def test_whole_number_test_is_equivalent():
    """Σ a_i × 2^(18−i) mod 11 == 1 over all 18 characters, with X = 10 (§6.1)."""
    for number in ("11010519491231002X", "440524188001010014"):
        digits = [10 if c == "X" else int(c) for c in number]
        assert sum(a * pow(2, 18 - i, 11) for i, a in enumerate(digits, start=1)) % 11 == 1


@pytest.mark.parametrize(
    "bad",
    ["1101051949123100", "110105194912310021", "1101051949123100X", "１１０１０５１９４９１２３１００２"],
)
def test_check_char_needs_17_ascii_digits(bad):
    """Anything but 17 ASCII digits is a programming error: ValueError, not a wrong answer."""
    with pytest.raises(ValueError):
        id_check_char(bad)


# --- resident ID: the worked examples ----------------------------------------------------------


def test_standard_example_is_a_female_born_1949_12_31():
    """11010519491231002X: valid, born 1949-12-31, 17th digit 2 is even so female (§6.1)."""
    assert parse("11010519491231002X") == IdentityNumber(
        number="11010519491231002X",
        legacy_number="",
        birth_date=datetime.date(1949, 12, 31),
        sex="F",
        checksum_ok=True,
    )


def test_second_example_is_a_valid_male_born_1880():
    """440524188001010014: check character 4 is right, born 1880-01-01, 17th digit 1 is odd so male.

    The §6.1 prefilter allows 18xx years, but by default births before 1900 are refused; lowering
    ``min_birth_year`` accepts the example as the standard means it.
    """
    parsed = parse("440524188001010014", min_birth_year=1800)
    assert parsed == IdentityNumber(
        number="440524188001010014", birth_date=datetime.date(1880, 1, 1), sex="M", checksum_ok=True
    )


def test_second_example_is_refused_by_default_as_born_before_1900():
    """With the default ``min_birth_year`` (1900) the 1880 birth date gives code birth_date."""
    assert error_code("440524188001010014") == "birth_date"


def test_second_example_structure_with_a_later_birth_year_is_male():
    """The same address and sequence with a 1980 birth date parse as male."""
    number = with_check("44052419800101001")
    parsed = parse(number)
    assert parsed.sex == "M" and parsed.birth_date == datetime.date(1980, 1, 1) and parsed.checksum_ok


def test_lower_case_x_is_accepted_and_normalised():
    """A lower-case x check character is accepted and stored as X (§6.1)."""
    assert parse("11010519491231002x").number == "11010519491231002X"


def test_spaces_and_full_width_digits_are_normalised():
    """Spaces (also the ideographic space) are removed and full-width digits folded to ASCII."""
    assert parse(" 110105 19491231\u3000002X ").number == "11010519491231002X"
    assert parse("１１０１０５１９４９１２３１００２ｘ").number == "11010519491231002X"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_empty_number_is_required(value):
    """Nothing entered gives code "required"."""
    assert error_code(value) == "required"


@pytest.mark.parametrize(
    "value",
    [
        "1101051949123100",
        "1101051949123100211",
        "11010519491231002Y",
        "X1010519491231002X",
        "11010519491231002XX",
    ],
)
def test_wrong_length_or_characters_is_a_format_error(value):
    """Not 18 characters (17 digits, then a digit or X) and not 15 digits gives code "format"."""
    assert error_code(value) == "format"


def test_trailing_newline_is_not_smuggled_through():
    """A newline is whitespace and removed; other trailing junk fails the format."""
    assert parse("11010519491231002X\n").number == "11010519491231002X"
    assert error_code("11010519491231002X.") == "format"


# --- resident ID: dates and provinces ----------------------------------------------------------


def test_impossible_date_is_refused_with_code_birth_date():
    """19990230 does not exist: code birth_date, even with a correct check character."""
    assert error_code(with_check("33010219990230003")) == "birth_date"


@pytest.mark.parametrize("date", ["19991301", "19990001", "19990100", "19990132", "17991231", "21000101"])
def test_dates_outside_the_prefilter_are_birth_date_errors(date):
    """Month 13, month 0, day 0, day 32, or a century other than 18/19/20 give code birth_date."""
    assert error_code(with_check("330102" + date + "003")) == "birth_date"


def test_leap_day_exists_only_in_leap_years():
    """20000229 exists, 19000229 does not (1900 is not a leap year)."""
    assert parse(with_check("33010220000229003")).birth_date == datetime.date(2000, 2, 29)
    assert error_code(with_check("33010219000229003")) == "birth_date"


def test_future_birth_date_is_refused():
    """A birth date after today gives code birth_date; today itself is accepted."""
    assert error_code(with_check("33010220250602003")) == "birth_date"
    assert parse(with_check("33010220250601003")).birth_date == TODAY


def test_default_today_is_the_local_date():
    """Without ``today``, a birth date next year is in the future."""
    next_year = timezone.localdate().year + 1
    with pytest.raises(ValidationError) as exc:
        parse_identity_number(Doc.RESIDENT_ID, with_check(f"330102{next_year}0101003"))
    assert exc.value.code == "birth_date"


def test_birth_before_1900_is_refused():
    """The prefilter allows 18xx, but a birth before 1900 is refused with code birth_date."""
    assert error_code(with_check("33010218991231003")) == "birth_date"
    assert parse(with_check("33010219000101003")).birth_date == datetime.date(1900, 1, 1)


@pytest.mark.parametrize(
    "prefix",
    [
        "00",
        "01",
        "10",
        "16",
        "20",
        "24",
        "30",
        "38",
        "40",
        "47",
        "55",
        "60",
        "66",
        "70",
        "72",
        "80",
        "84",
        "90",
        "99",
    ],
)
def test_prefix_outside_the_province_list_is_refused(prefix):
    """The first two digits must be in the §6.1 province list, else code province."""
    assert error_code(with_check(prefix + "010219900101003")) == "province"


@pytest.mark.parametrize("prefix", [11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65, 71, 81, 82, 83])
def test_every_listed_province_is_accepted(prefix):
    """Each end of each range of the §6.1 province list, plus 71, 81, 82 and 83, is accepted."""
    assert parse(with_check(f"{prefix}010219900101003")).number.startswith(str(prefix))


def test_province_list_is_exactly_the_spec_list():
    """11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81, 82, 83: 34 prefixes."""
    expected = {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
        83,
    }
    assert expected == PROVINCES


# --- resident ID: the check character and its override ----------------------------------------


def test_wrong_check_character_is_refused_with_code_checksum():
    """11010519491231002 followed by 1 instead of X gives code checksum."""
    assert error_code("110105194912310021") == "checksum"


def test_wrong_check_character_accepted_with_override():
    """With allow_bad_checksum the number is returned, marked checksum_ok=False (§ design rule 3)."""
    parsed = parse("110105194912310021", allow_bad_checksum=True)
    assert parsed.number == "110105194912310021" and not parsed.checksum_ok
    assert parsed.birth_date == datetime.date(1949, 12, 31) and parsed.sex == "F"


def test_override_does_not_excuse_format_province_or_date():
    """Only the checksum can be overridden: other errors are still raised."""
    assert error_code("1101051949123100", allow_bad_checksum=True) == "format"
    assert error_code("091234199001010031", allow_bad_checksum=True) == "province"
    assert error_code("330102199902300031", allow_bad_checksum=True) == "birth_date"


@st.composite
def valid_resident_ids(draw):
    """A valid 18-digit number: random listed province, address, date 1900..TODAY, sequence."""
    province = draw(st.sampled_from(sorted(PROVINCES)))
    address = draw(st.integers(0, 9999))
    born = draw(st.dates(datetime.date(1900, 1, 1), TODAY))
    sequence = draw(st.integers(0, 999))
    first17 = f"{province:02d}{address:04d}{born:%Y%m%d}{sequence:03d}"
    return with_check(first17), born, sequence


@PROPERTY
@given(valid_resident_ids())
def test_generated_valid_numbers_parse(case):
    """Every number built from a listed province, a real date and its check character parses."""
    number, born, sequence = case
    parsed = parse(number)
    assert parsed.number == number and parsed.checksum_ok
    assert parsed.birth_date == born
    assert parsed.sex == ("M" if sequence % 2 else "F")
    assert parse(number.lower()).number == number


@PROPERTY
@given(valid_resident_ids(), st.integers(0, 16), st.integers(1, 9))
def test_every_single_digit_change_changes_the_check_character(case, position, delta):
    """MOD 11-2 detects every single-digit substitution in the first 17 digits."""
    number = case[0]
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 : 17]
    assert id_check_char(changed) != number[17]


@PROPERTY
@given(valid_resident_ids(), st.sampled_from([2, 3, 4, 5, 14, 15, 16]), st.integers(1, 9))
def test_a_mistyped_address_or_sequence_digit_is_a_checksum_error(case, position, delta):
    """Changing a digit that leaves province and date intact gives code checksum, overridable."""
    number = case[0]
    mutated = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert error_code(mutated) == "checksum"
    assert parse(mutated, allow_bad_checksum=True).checksum_ok is False


@PROPERTY
@given(valid_resident_ids(), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_refused(case, position, delta):
    """Whatever digit is mistyped, the number is refused (checksum, or province/date if those broke)."""
    number = case[0]
    mutated = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert error_code(mutated) in {"checksum", "province", "birth_date"}
    if error_code(mutated) == "checksum":
        assert not parse(mutated, allow_bad_checksum=True).checksum_ok


@PROPERTY
@given(valid_resident_ids(), st.integers(0, 15))
def test_adjacent_transpositions_are_detected(case, position):
    """Swapping two different adjacent digits among the first 17 changes the check character."""
    number = case[0]
    a, b = number[position], number[position + 1]
    if a != b:
        swapped = number[:position] + b + a + number[position + 2 : 17]
        assert id_check_char(swapped) != number[17]


@PROPERTY
@given(valid_resident_ids())
def test_any_other_check_character_is_a_checksum_error(case):
    """Each of the ten wrong check characters gives code checksum."""
    number = case[0]
    for other in set("0123456789X") - {number[17]}:
        assert error_code(number[:17] + other) == "checksum"


# --- resident ID: 15-digit legacy numbers ------------------------------------------------------


def test_fifteen_digit_number_is_converted_and_kept():
    """330102850512003 → 19 inserted after 6 digits, check character computed, original kept."""
    parsed = parse("330102850512003")
    assert parsed.number == with_check("33010219850512003")
    assert len(parsed.number) == 18 and parsed.legacy_number == "330102850512003"
    assert parsed.birth_date == datetime.date(1985, 5, 12) and parsed.sex == "M" and parsed.checksum_ok


def test_fifteen_digit_example_of_the_standard():
    """110105491231002 (the standard's sample without 19 and check) becomes 11010519491231002X."""
    parsed = parse("110105491231002")
    assert parsed.number == "11010519491231002X" and parsed.legacy_number == "110105491231002"
    assert parsed.sex == "F"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("33010285051200X", "format"),
        ("33010285A512003", "format"),
        ("090102850512003", "province"),
        ("330102990230003", "birth_date"),
        ("330102851301003", "birth_date"),
    ],
)
def test_bad_fifteen_digit_numbers(value, code):
    """A 15-digit number has only digits, a listed province and a real 19YYMMDD date."""
    assert error_code(value) == code


def test_fifteen_digits_only_for_resident_id():
    """Other 18-digit types do not take the 15-digit form."""
    assert error_code("330102850512003", Doc.HMT_RESIDENCE_PERMIT) == "format"


# --- residence permits and other documents ----------------------------------------------------


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hmt_residence_permit_with_correct_check_character(prefix):
    """A permit starting 810000/820000/830000 with a real date and check character parses (§6.1)."""
    number = with_check(prefix + "19950715004")
    parsed = parse(number, Doc.HMT_RESIDENCE_PERMIT)
    assert parsed.number == number and parsed.birth_date == datetime.date(1995, 7, 15) and parsed.sex == "F"


def test_hmt_residence_permit_rules():
    """Other prefixes give code province; checksum and date rules are those of the resident ID."""
    assert error_code(with_check("33010219950715004"), Doc.HMT_RESIDENCE_PERMIT) == "province"
    assert error_code(with_check("81000119950715004"), Doc.HMT_RESIDENCE_PERMIT) == "province"
    good = with_check("81000019950715004")
    assert error_code(wrong_check(good), Doc.HMT_RESIDENCE_PERMIT) == "checksum"
    assert not parse(wrong_check(good), Doc.HMT_RESIDENCE_PERMIT, allow_bad_checksum=True).checksum_ok
    assert error_code(with_check("81000019990230004"), Doc.HMT_RESIDENCE_PERMIT) == "birth_date"
    assert error_code("81000019950715004", Doc.HMT_RESIDENCE_PERMIT) == "format"


def test_hmt_prefix_is_accepted_as_resident_id_too():
    """§6.1 lists 81, 82, 83 among the province prefixes of resident IDs."""
    assert parse(with_check("81000019950715004")).checksum_ok


def test_foreign_permanent_resident_2023_form():
    """18 digits starting with 9, same checksum; a failed checksum is overridable (§6.1 🔴)."""
    number = with_check("93115619900101005")
    parsed = parse(number, Doc.FOREIGN_PERMANENT_RESIDENT)
    assert parsed.number == number and parsed.birth_date == datetime.date(1990, 1, 1) and parsed.sex == "M"
    assert error_code(wrong_check(number), Doc.FOREIGN_PERMANENT_RESIDENT) == "checksum"
    assert not parse(wrong_check(number), Doc.FOREIGN_PERMANENT_RESIDENT, allow_bad_checksum=True).checksum_ok
    assert error_code(with_check("93115619990230005"), Doc.FOREIGN_PERMANENT_RESIDENT) == "birth_date"


def test_foreign_permanent_resident_old_form():
    """3 letters and 12 digits, format check only, upper-cased."""
    assert parse("usa310190010101", Doc.FOREIGN_PERMANENT_RESIDENT) == IdentityNumber("USA310190010101")
    for bad in ("US3310190010101", "USA31019001010", with_check("83115619900101005")):
        assert error_code(bad, Doc.FOREIGN_PERMANENT_RESIDENT) == "format"


@pytest.mark.parametrize(
    ("doc_type", "good", "bad"),
    [
        (
            Doc.HK_MACAO_PERMIT,
            ["H12345678", "m1234567890", "H 1234 5678"],
            ["H1234567", "H123456789", "K12345678", "12345678"],
        ),
        (Doc.TAIWAN_PERMIT, ["12345678", "1234567890"], ["1234567", "123456789", "T12345678"]),
        (
            Doc.PASSPORT,
            ["E12345678", "g1234567", "12345", "A" * 17],
            ["1234", "A" * 18, "E1234-5678", "护照12345"],
        ),
        (Doc.OTHER, ["AB", "军官证第123号", "x" * 30], ["A", "x" * 31, "AB\x00"]),
    ],
)
def test_other_document_formats(doc_type, good, bad):
    """HK/Macao ^[HM]\\d{8}(\\d{2})?$, Taiwan ^\\d{8}(\\d{2})?$, passport ^[A-Z0-9]{5,17}$, other 2–30 characters."""
    for value in good:
        parsed = parse(value, doc_type)
        assert parsed.number == "".join(value.split()).upper()
        assert parsed.birth_date is None and parsed.sex == "" and parsed.checksum_ok
    for value in bad:
        assert error_code(value, doc_type) == "format", value


def test_unknown_document_type():
    """An unknown document type is refused with code invalid_choice."""
    assert error_code("E12345678", "driving_licence") == "invalid_choice"


# Evaluating a message needs the translation machinery, hence the app registry (pytest-django sets it up).
needs_apps = pytest.mark.skipif(not apps.ready, reason="needs django.setup() (run with pytest-django)")


@needs_apps
def test_messages_are_clear_and_translatable():
    """Messages are sentences in English (translated by the zh_Hans catalogue)."""
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            parse("110105194912310021")
        assert exc.value.messages == [
            "The check digit is wrong (GB 11643): please check the number against the card."
        ]
        with pytest.raises(ValidationError) as exc:
            parse(with_check("33010219990230003"))
        assert exc.value.messages == ["The birth date in the identity number does not exist."]


# --- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("330102850512003", "330**********03"),
        ("H1234567890", "H12******90"),
        ("12345678", "123***78"),
        ("E1234", "E***4"),
        ("ABC", "***"),
        ("", ""),
    ],
)
def test_masking(value, masked):
    """18+ characters keep the first 6 and last 4; shorter keep 3 and 2 (or 1 and 1); length is kept."""
    assert mask_identity_number(value) == masked
    assert len(mask_identity_number(value)) == len(value)


@PROPERTY
@given(st.text(alphabet="0123456789X", max_size=30))
def test_masking_hides_at_least_a_third(value):
    """Whatever the length, a good part of the number is hidden."""
    masked = mask_identity_number(value)
    assert len(masked) == len(value)
    assert masked.count("*") >= len(value) / 3


# --- mobile numbers (§6.3) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "+86 138-0013-8000",
        "+8613800138000",
        "0086 13800138000",
        "008613800138000",
        "86 138 0013 8000",
        "8613800138000",
        " 138 0013 8000 ",
        "＋８６ １３８００１３８０００",
    ],
)
def test_mobile_numbers_are_normalised(value):
    """Country prefix +86/0086/86, spaces and hyphens are removed: 11 digits remain."""
    assert normalize_mobile(value) == "13800138000"


@pytest.mark.parametrize(
    "value",
    [
        "12345678901",
        "1380013800",
        "138001380001",
        "",
        "   ",
        "+86 1380013800",
        "+8712345678901",
        "23800138000",
        "1380013800a",
        "(138)00138000",
        "+86+8613800138000",
        "0086 0086 13800138000",
    ],
)
def test_bad_mobile_numbers_are_refused(value):
    """Not 1[3-9] followed by 9 digits after stripping: code mobile."""
    with pytest.raises(ValidationError) as exc:
        normalize_mobile(value)
    assert exc.value.code == "mobile"


def test_86_is_only_a_country_prefix_before_11_digits():
    """86 followed by 10 digits is not stripped (and is not a mobile number)."""
    with pytest.raises(ValidationError):
        normalize_mobile("861380013800")


@pytest.mark.parametrize(
    ("value", "strict"),
    [
        ("13800138000", True),
        ("+86 138 0013 8000", True),
        ("14000000000", False),
        ("14412345678", False),
        ("14512345678", True),
        ("15412345678", False),
        ("16212345678", True),
        ("16312345678", False),
        ("17812345678", True),
        ("17912345678", False),
        ("19212345678", True),
        ("19412345678", False),
        ("19912345678", True),
        ("12345678901", False),
        ("", False),
    ],
)
def test_strict_mobile_prefixes(value, strict):
    """The MIIT prefix list of §6.3: 138 yes, 140–144 (IoT) no, 154 no, 194 no."""
    assert mobile_is_strict(value) is strict


def test_validate_mobile_accepts_normalised_values_only():
    """The model-field validator takes 11-digit numbers; blank is left to the field's ``blank``."""
    validate_mobile("13800138000")
    validate_mobile("")
    for bad in ("+86 138-0013-8000", "12345678901", "1380013800", "13800138000\n"):
        with pytest.raises(ValidationError) as exc:
            validate_mobile(bad)
        assert exc.value.code == "mobile"


@PROPERTY
@given(
    st.from_regex(r"\A1[3-9][0-9]{9}\Z"), st.sampled_from(["", "+86", "0086", "86", "+86 "]), st.booleans()
)
def test_normalize_mobile_round_trip(number, prefix, hyphens):
    """Any loose-valid number, with any prefix and separators, normalises to itself and validates."""
    shown = f"{number[:3]}-{number[3:7]}-{number[7:]}" if hyphens else number
    assert normalize_mobile(prefix + shown) == number
    validate_mobile(number)


# --- person names (§6.6) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "张三",
        "阿卜杜·热合曼",
        "买买提•艾力",
        "玛丽・安",
        "张𠀀",
        "㐀明",
        "王〇",
        "John Smith",
        "José García",
        "Jean-Pierre O'Neil",
        "欧阳娜娜",
        "A" * 50,
        "李 四",
        "Anna·李",
    ],
)
def test_names_accepted(name):
    """Han characters of every block, middle dots, Latin letters with spaces are accepted."""
    validate_person_name(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("\u3000", "required"),
        ("张3", "name"),
        ("张３", "name"),
        ("<script>", "name"),
        ("张{三}", "name"),
        ("张@三", "name"),
        ("张三!", "name"),
        ("张.三", "name"),
        ("·张三", "name"),
        ("张三·", "name"),
        ("阿卜杜··热合曼", "name"),
        ("张-三", "name"),
        ("-John", "name"),
        ("张\t三", "name"),
        ("张\n三", "name"),
        ("张\u200b三", "name"),
        ("Иван", "name"),
        ("😀", "name"),
        ("·", "name"),
        ("A" * 51, "max_length"),
    ],
)
def test_names_refused(name, code):
    """Digits, symbols, stray middle dots, other scripts and over-long names are refused."""
    with pytest.raises(ValidationError) as exc:
        validate_person_name(name)
    assert exc.value.code == code


def test_name_error_names_the_refused_character():
    """The message's parameter is the character, or its code point when it is invisible."""
    for name, char in (("张3", "3"), ("<b>", "<"), ("张\u200b三", "U+200B"), ("张\u3000三", "U+3000")):
        with pytest.raises(ValidationError) as exc:
            validate_person_name(name)
        assert exc.value.params == {"char": char}


@needs_apps
def test_name_error_message_shows_the_refused_character():
    """The English message quotes the refused character."""
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            validate_person_name("张3")
        assert "“3”" in exc.value.messages[0]
        with pytest.raises(ValidationError) as exc:
            validate_person_name("张\u200b三")
        assert "U+200B" in exc.value.messages[0]


@PROPERTY
@given(
    st.text(
        alphabet=st.characters(categories=["Lo"], min_codepoint=0x4E00, max_codepoint=0x9FFF)
        | st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
        min_size=1,
        max_size=50,
    )
)
def test_any_han_name_up_to_50_characters_is_accepted(name):
    """Any run of Han characters (basic block or extension B) of 1 to 50 characters is a valid name."""
    validate_person_name(name)


@PROPERTY
@given(st.text(min_size=1, max_size=20), st.sampled_from("0123456789<>{}"), st.integers(0, 20))
def test_a_digit_or_bracket_anywhere_is_refused(name, bad, position):
    """Inserting a digit or one of <>{} anywhere makes the name invalid."""
    position = min(position, len(name))
    with pytest.raises(ValidationError):
        validate_person_name(name[:position] + bad + name[position:])
