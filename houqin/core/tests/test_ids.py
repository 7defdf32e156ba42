"""``core.ids.as_key``: a client's record key, or None; never a server error further on."""

from hypothesis import given, settings
from hypothesis import strategies as st

from houqin.core.ids import MAX_KEY, as_key


def test_plain_numbers_in_range_are_keys():
    assert as_key("12") == 12 and as_key(12) == 12 and as_key(str(MAX_KEY)) == MAX_KEY


def test_everything_else_is_none():
    for value in (None, "", "0", "-3", "+3", " 3", "3 ", "1.0", "1e3", "²", "①", "١٢", "１２", str(MAX_KEY + 1), [], "x"):
        assert as_key(value) is None, value


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=25), st.integers(), st.none()))
def test_any_value_gives_a_key_int_accepts_or_none(value):
    key = as_key(value)
    assert key is None or (1 <= key <= MAX_KEY and int(str(value)) == key)
