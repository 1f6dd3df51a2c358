"""Rates and changes as the seed writes them; zero denominators are None with a reason."""
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reporting.figures import BY_KEY, FIGURES, change, change_of_rate, half_up, percent_text, plain, rate


def test_the_seed_figures():
    assert rate(143, 176).percent == Decimal("81.25")
    assert rate(22, 26).percent == Decimal("84.62")
    assert change(212, 180).text == "上升17.78%"
    assert change(820, 976).text == "下降15.98%"
    assert change(39, 52).text == "下降25%"  # the seed writes 25%, not 25.00%
    assert change(212, 180).percent == Decimal("17.78")


def test_half_up_not_bankers_rounding():
    assert half_up(Decimal("0.125")) == Decimal("0.13")
    assert half_up(Decimal("2.675")) == Decimal("2.68")
    assert rate(1, 8).percent == Decimal("12.50")  # 12.5 exactly
    assert rate(1, 3).percent == Decimal("33.33") and rate(2, 3).percent == Decimal("66.67")


def test_zero_denominators_are_explained_not_crashed():
    r = rate(0, 0)
    assert r.percent is None and r.note[0].startswith("分母为0")
    up = change(5, 0)
    assert up.percent is None and up.text is None and "0" in up.note[1]
    flat = change(0, 0)
    assert flat.text == "持平"


def test_equal_values_are_flat_and_rates_compare_in_points():
    assert change(10, 10).text == "持平"
    assert change_of_rate(Decimal("81.25"), Decimal("78.00")).text == "上升3.25个百分点"
    assert change_of_rate(None, Decimal("1")).text is None


def test_plain_and_percent_text():
    assert plain(Decimal("25.00")) == "25" and plain(Decimal("17.80")) == "17.8" and plain(Decimal("100.00")) == "100"
    assert percent_text(Decimal("81.25")) == "81.25%" and percent_text(None) is None


def test_every_rate_divides_counts_that_exist():
    for figure in FIGURES:
        if figure.kind == "rate":
            assert BY_KEY[figure.numerator].kind == "count" and BY_KEY[figure.denominator].kind == "count"


@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_rates_round_to_two_places_within_one_cent(n, d):
    exact = Decimal(n) * 100 / Decimal(d)
    got = rate(n, d).percent
    assert got.as_tuple().exponent == -2 and abs(got - exact) <= Decimal("0.005")


@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_direction_follows_the_sign(now, before):
    c = change(now, before)
    assert c.direction == ("上升" if now > before else "下降" if now < before else "持平")
