"""Pinyin search keys: full pinyin and initials, heteronyms bounded (X-9). No database needed."""

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin.pinyin_dict import pinyin_dict as _READINGS

from houqin.core.pinyin import (
    MAX_COMBINATIONS,
    MAX_LENGTH,
    TABLE_PATH,
    _fold,
    _units,
    build_table,
    query_matches,
    search_keys,
)

PROPERTY = settings(max_examples=200, database=None, deadline=None)
# Characters of the basic block that have a reading. A few (e.g. 兙, an old unit of weight
# written as one character) have none in pypinyin's dictionary and give no key by design.
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(lambda c: ord(c) in _READINGS)


def test_full_pinyin_then_initials():
    """张三 gives the full pinyin without tones, then the initials."""
    assert search_keys("张三") == "zhangsan zs"


def test_empty_text_gives_no_keys():
    """ "" (and whitespace, and punctuation only) gives ""."""
    assert search_keys("") == ""
    assert search_keys("   ") == ""
    assert search_keys("·") == ""


def test_heteronym_surname_gives_both_readings():
    """曾 is read zeng (the surname) or ceng: both appear, with their initials."""
    keys = search_keys("曾").split()
    assert {"zeng", "ceng", "z", "c"} <= set(keys)
    name_keys = search_keys("曾小明").split()
    assert "zengxiaoming" in name_keys and "zxm" in name_keys
    assert "cengxiaoming" in name_keys and "cxm" in name_keys


def test_reading_in_context_comes_first():
    """The first key is pypinyin's reading in context (长大 is zhang da), other readings follow."""
    keys = search_keys("长大了").split()
    assert keys[0] == "zhangdale" and keys[1] == "zdl"
    assert "changdale" in keys


def test_surname_readings_of_other_heteronyms():
    """单 (shan as a surname) and 仇 (qiu as a surname) also give their surname readings."""
    assert "shantianfang" in search_keys("单田芳").split()
    assert "qiuyi" in search_keys("仇一").split()


def test_combinations_are_bounded():
    """However many heteronyms, at most 8 combinations, i.e. at most 16 keys."""
    keys = search_keys("乐乐乐乐乐乐乐乐乐乐").split()
    assert len(keys) <= 2 * MAX_COMBINATIONS
    assert len(keys) == len(set(keys))


def test_each_single_heteronym_appears_before_pairs():
    """With many heteronyms, the first character's other reading (the surname 曾 as zeng) is not crowded out.

    Combinations changing one character come before those changing two, earlier characters first;
    a plain product of the readings would spend the whole budget on the last characters.
    """
    keys = search_keys("曾乐乐乐乐乐乐乐").split()
    assert "ceng" + "le" * 7 in keys and "zeng" + "le" * 7 in keys
    assert "zeng" + "yue" + "le" * 6 not in keys  # two changes: beyond the budget of 8


def test_letters_and_digits_are_kept_lower_cased():
    """Non-Chinese letters and digits stay, lower-cased; a run of them stays whole in the initials."""
    assert search_keys("2023级汽修1班").split()[:2] == ["2023jiqixiu1ban", "2023jqx1b"]
    assert search_keys("John Smith") == "johnsmith"
    assert search_keys("Ａ组") == "azu az"
    assert search_keys("José") == "jose"


def test_middle_dot_is_dropped_and_rare_characters_do_not_break():
    """阿卜杜·热合曼 gives keys without the dot; a rare extension character does not raise."""
    keys = search_keys("阿卜杜·热合曼").split()
    assert "abudureheman" in keys and "abdrhm" in keys
    assert search_keys("张𠀀").startswith("zhang")


def test_u_umlaut_is_written_v():
    """吕 is typed lv on a keyboard."""
    assert search_keys("吕布") == "lvbu lb"


def test_long_text_fits_the_column():
    """The result never exceeds the 200-character column and keeps whole keys."""
    keys = search_keys("中华人民共和国" * 40)
    assert len(keys) <= MAX_LENGTH
    assert search_keys("张三", max_length=10) == "zhangsan"


@pytest.mark.parametrize(
    "query", ["张三", "张", "三", "zhangsan", "zs", "ZS", "Zhang San", "zhang", "hangs", "z"]
)
def test_queries_that_find_zhang_san(query):
    """Characters, full pinyin, initials, any case, with or without spaces, and substrings match."""
    assert query_matches(query, "张三")


@pytest.mark.parametrize("query", ["ls", "lisi", "李", "zhangsi", "zss", "", "   "])
def test_queries_that_do_not_find_zhang_san(query):
    """Other names' pinyin and initials do not match; an empty query matches nothing."""
    assert not query_matches(query, "张三")


def test_query_matches_heteronyms_and_latin_names():
    """ "zeng" and "ceng" both find 曾小明; "smith" finds John Smith whatever the case."""
    assert query_matches("zxm", "曾小明") and query_matches("cxm", "曾小明")
    assert query_matches("smith", "John Smith") and query_matches("SMITH", "John Smith")


def test_query_matches_uses_given_keys():
    """Precomputed keys (the database column) can be passed instead of being recomputed."""
    assert query_matches("zs", "张三", keys="zhangsan zs")
    assert not query_matches("zs", "张三", keys="lisi ls")


@PROPERTY
@given(st.text(alphabet=HAN, min_size=1, max_size=6))
def test_keys_are_lower_case_ascii_and_find_the_text(name):
    """For any Chinese name: keys are lower-case a–z and digits, at most 16, and the name finds itself."""
    keys = search_keys(name)
    assert keys == keys.strip() and "  " not in keys
    assert all(key.isascii() and key.isalnum() and key == key.lower() for key in keys.split())
    assert len(keys.split()) <= 2 * MAX_COMBINATIONS
    assert query_matches(name, name)
    # One letter per character: the initials of a reading. They are not always the second key: a reading whose
    # full pinyin is its initial (阏 e/yan: "e yan y") gives one key, duplicates being dropped.
    assert any(len(key) == len(name) for key in keys.split())
    assert all(query_matches(key, name) for key in keys.split())


def test_a_reading_whose_pinyin_is_its_initial_gives_one_key():
    assert search_keys("阏") == "e yan y"
    assert all(query_matches(key, "阏") for key in search_keys("阏").split())


@PROPERTY
@given(st.text(max_size=40))
def test_any_text_gives_bounded_keys(text):
    """Arbitrary input never raises and stays within the column."""
    keys = search_keys(text)
    assert len(keys) <= MAX_LENGTH
    assert all(key.isascii() for key in keys.split())


def test_keys_never_load_pypinyin():
    """Importing the module is cheap, and so is using it: the keys come from the table, never from
    pypinyin, whose dictionaries cost a worker ~55 MB."""
    code = "import sys, houqin.core.pinyin as p; print(p.search_keys('张三'), 'pypinyin' in sys.modules)"
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.split() == ["zhangsan", "zs", "False"]


# The table against pypinyin itself ------------------------------------------------------------


def _reference_units(text: str) -> list[tuple[bool, list[str]]]:
    """What ``_units`` gave when it called pypinyin directly (before the table): the reference."""
    from pypinyin import Style, lazy_pinyin, pinyin

    units = []
    for is_han, group in itertools.groupby(text, key=lambda ch: ord(ch) in _READINGS):
        run = "".join(group)
        if not is_han:
            folded = _fold(run)
            if folded:
                units.append((False, [folded]))
            continue
        in_context = lazy_pinyin(run, style=Style.NORMAL)
        per_char = pinyin(list(run), style=Style.NORMAL, heteronym=True)
        for first, others in zip(in_context, per_char, strict=True):
            readings = [r for r in (_fold(x) for x in [first, *others]) if r]
            units.append((True, list(dict.fromkeys(readings)) or [""]))
    return units


def test_the_table_is_what_the_installed_pypinyin_gives():
    """Stale after a pypinyin upgrade: run scripts/build_pinyin_table.py."""
    assert TABLE_PATH.read_text(encoding="utf-8") == build_table()


def test_every_phrase_and_character_reads_as_pypinyin_reads_it():
    from pypinyin.constants import PHRASES_DICT

    phrases = sorted(PHRASES_DICT)
    # Each phrase alone, its beginnings and ends (a run that stops inside a phrase), and runs of
    # phrases that overlap at their seams: the segmentation's cases.
    texts = phrases + ["".join(phrases[i:i + 3]) for i in range(0, len(phrases), 7)]
    texts += [p[:k] for p in phrases for k in range(2, len(p))] + [p[k:] for p in phrases for k in range(1, len(p) - 1)]
    texts += ["".join(chr(c) for c in sorted(_READINGS)[i:i + 12]) for i in range(0, len(_READINGS), 12)]
    wrong = [t for t in texts if _units(t) != _reference_units(t)]
    assert wrong == []


PIECES = st.one_of(
    HAN,
    st.sampled_from(["长大", "银行", "一丁点儿", "重庆", "会计", "单田芳", "曾", "中国人", "行长", "乐", "还"]),
    st.text(alphabet="aZ9 ·-Ａ（）é", max_size=3),
    st.characters(min_codepoint=0x2FF0, max_codepoint=0x3500),  # around the table's first slot
    st.characters(min_codepoint=0xFFF0, max_codepoint=0x20010),  # around the supplementary planes
    st.characters(min_codepoint=0x32380, max_codepoint=0x10FFFF),  # past the last character
)


@PROPERTY
@given(st.lists(PIECES, max_size=10))
def test_any_text_reads_as_pypinyin_reads_it(pieces):
    text = "".join(pieces)
    assert _units(text) == _reference_units(text)
