"""CPR validation, normal form and masking."""
from datetime import date

import pytest

from engine import cpr

pytestmark = pytest.mark.database_free  # runs in the SQLite half only (tests/conftest.py)


@pytest.mark.parametrize("value,digits", [("010190-1234", "0101901234"), ("0101901234", "0101901234"),
                                          (" 290200-4001 ", "2902004001"), ("290296-1234", "2902961234")])
def test_valid_numbers_normalise(value, digits):
    assert cpr.normalize(value) == digits


@pytest.mark.parametrize("value", ["310290-1234", "290201-1234", "000190-1234", "011390-1234", "010190-123",
                                   "010190--1234", "01019O1234", "", "010190 1234", None, 101901234])
def test_invalid_numbers_are_refused_without_echo(value):
    with pytest.raises(cpr.InvalidCpr) as err:
        cpr.normalize(value)
    if isinstance(value, str) and value:
        assert value.strip() not in str(err.value)


@pytest.mark.parametrize("digits,born", [("0101901234", date(1990, 1, 1)), ("0101204234", date(2020, 1, 1)),
                                         ("0101504234", date(1950, 1, 1)), ("0101105234", date(2010, 1, 1)),
                                         ("0101705234", date(1870, 1, 1)), ("0101309234", date(2030, 1, 1))])
def test_century_follows_the_serial_digit(digits, born):
    assert cpr.birth_date(digits) == born


def test_29_february_depends_on_the_century():
    assert cpr.normalize("290200-4001") == "2902004001"  # 2000 is a leap year
    with pytest.raises(cpr.InvalidCpr):
        cpr.normalize("290200-1001")  # serial 0-3 means 1900, which was not a leap year


@pytest.mark.parametrize("digits", ["０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"])
@pytest.mark.parametrize("form", ["010190-1234", "0101901234", "01019_-1234"])
def test_only_ascii_digits_are_a_cpr(digits, form):
    """`\\d` and int() read full-width, Arabic-Indic, Devanagari and mathematical digits as numbers too."""
    if "_" in form:  # one digit in another script among ASCII ones
        value = form.replace("_", digits[0])
    else:
        value = form.translate(str.maketrans("0123456789", digits))
    with pytest.raises(cpr.InvalidCpr):
        cpr.normalize(value)
    assert cpr.normalize(form.replace("_", "0")) == "0101901234"
