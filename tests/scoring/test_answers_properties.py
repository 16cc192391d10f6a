"""Properties of the answer matcher: equivalent renderings of the right value are accepted, values outside
the tolerance are rejected, text and lists are normalised, and nothing raises on arbitrary text."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from evalkit.contracts.answers import check_answer, extract_final_answer, normalise_text, parse_numbers
from evalkit.contracts.suite import Blank, ExpectedAnswer, Tolerance

USD_SCALES = {"USD thousands": 1e3, "USD millions": 1e6, "USD billions": 1e9}
SCALE_WORDS = {
    1e3: ["thousand", "k", "thousands"],
    1e6: ["million", "m", "mn", "millions"],
    1e9: ["billion", "bn", "B"],
}
REL = Tolerance(rel=1e-3)

# Values with two decimals, as tasks state them; |v| >= 0.1 so every rendering keeps enough digits.
values = st.decimals(min_value=-9_999_999, max_value=9_999_999, places=2).map(float).filter(lambda v: abs(v) >= 0.1)
positive = values.map(abs)


def accepts(value: float, unit: str | None, text: str, tolerance: Tolerance = REL) -> bool:
    return check_answer(ExpectedAnswer("number", value, unit, tolerance), text).correct


def grouped(v: float, places: int = 2) -> str:
    return f"{v:,.{places}f}"


@given(v=values, unit=st.sampled_from(sorted(USD_SCALES)))
def test_usd_plain_grouped_and_dollar_forms(v: float, unit: str) -> None:
    sign = "-" if v < 0 else ""
    for text in (f"{v:.2f}", f"{v:,.2f} {unit}", f"{sign}${abs(v):,.2f}", f"{sign}USD {abs(v):,.2f}"):
        assert accepts(v, unit, text), text


@given(v=values, unit=st.sampled_from(sorted(USD_SCALES)), to=st.sampled_from(sorted(SCALE_WORDS)), data=st.data())
def test_usd_scale_words_convert(v: float, unit: str, to: float, data: st.DataObject) -> None:
    converted = v * USD_SCALES[unit] / to
    assume(abs(converted) >= 0.001)
    word = data.draw(st.sampled_from(SCALE_WORDS[to]))
    space = data.draw(st.sampled_from(["", " "]))
    sign = "-" if v < 0 else ""
    text = f"{sign}${grouped(abs(converted), 6)}{space}{word}"
    assert accepts(v, unit, text), text


@given(v=values, unit=st.sampled_from(sorted(USD_SCALES)))
def test_usd_raw_dollars(v: float, unit: str) -> None:
    raw = v * USD_SCALES[unit]
    sign = "-" if v < 0 else ""
    assert accepts(v, unit, f"{sign}${grouped(abs(raw), 0 if abs(raw) >= 1e4 else 2)}")


@given(v=values.filter(lambda v: v < 0), unit=st.sampled_from([*sorted(USD_SCALES), "%", None]), data=st.data())
@example(v=-1.2, unit="USD millions", data=None)
def test_negatives_in_parentheses_and_phrases(v: float, unit: str | None, data: st.DataObject | None) -> None:
    a = grouped(abs(v))
    suffix = {"%": "%", None: ""}.get(unit, " million" if unit == "USD millions" else "")
    forms = [f"({a}){suffix}", f"(${a}{suffix})" if unit and unit.startswith("USD") else f"({a}{suffix})"]
    forms += [f"a decrease of {a}{suffix}", f"it fell {a}{suffix}", f"−{a}{suffix}"]
    for text in forms:
        assert accepts(v, unit, text), text


@given(p=values.filter(lambda p: abs(p) < 10_000))
def test_percent_ratio_and_bps_forms(p: float) -> None:
    sign = "-" if p < 0 else ""
    forms = [f"{p:.2f}%", f"{p:.2f} percent", f"{p / 100:.6f}", f"{p * 100:.0f} bps", f"{sign}{abs(p):.2f} per cent"]
    for text in forms:
        assert accepts(p, "%", text), text
    assert accepts(p * 100, "bps", f"{p:.2f}%")
    assert accepts(p / 100, "x", f"{p:.2f}%", Tolerance(rel=1e-3))


@given(x=positive.filter(lambda x: x < 1e5))
def test_ratio_x_forms(x: float) -> None:
    for text in (f"{x:.2f}x", f"{x:.2f} times", f"{x:.2f}×", f"{x:,.2f}"):
        assert accepts(x, "x", text), text


@given(
    v=st.integers(min_value=-(10**9), max_value=10**9).filter(lambda v: v != 0), unit=st.sampled_from(["count", None])
)
def test_integer_expected_values(v: int, unit: str | None) -> None:
    # an expected value given as an int (e.g. by the Python API) is compared like a float
    assert check_answer(ExpectedAnswer("number", v, unit), f"{v:,}").correct


@given(
    v=values,
    unit=st.sampled_from([*sorted(USD_SCALES), "%", "x", None]),
    off=st.floats(min_value=0.003, max_value=0.5),
    up=st.booleans(),
)
def test_values_outside_tolerance_are_rejected(v: float, unit: str | None, off: float, up: bool) -> None:
    got = v * (1 + off if up else 1 - off)
    assert not accepts(v, unit, f"{got:.6f}")
    assert not accepts(v, unit, f"{-v:.6f}")  # the opposite sign, without a phrase implying it


@given(v=positive, year=st.integers(min_value=1990, max_value=2100), q=st.integers(min_value=1, max_value=4))
def test_years_and_labels_are_not_the_answer(v: float, year: int, q: int) -> None:
    assume(not 1990 <= v <= 2100)
    assert accepts(v, "USD millions", f"In FY{year}, Q{q} revenue was ${v:,.2f} million")
    assert accepts(v, "USD millions", f"For fiscal {year}: {v:,.2f}")


@pytest.mark.parametrize(("expected", "text"), [(2100.4, "$2,100"), (1989.6, "1,990 USD millions"), (2100.3, "2,100")])
def test_grouped_numbers_near_years_are_numbers(expected: float, text: str) -> None:
    assert accepts(expected, "USD millions", text, Tolerance(abs=0.5))
    # in a sentence a bare year-like integer is a year; an answer that is that number alone states the amount
    assert not accepts(expected, "USD millions", "It was reported for 2100.", Tolerance(abs=0.5))
    assert accepts(expected, "USD millions", "2100", Tolerance(abs=0.5)) == (abs(expected - 2100) <= 0.5)


# ------------------------------------------------------------------------------------------ text and lists

WORDS = st.text(alphabet=string.ascii_letters, min_size=2, max_size=10).filter(
    lambda w: normalise_text(w) == w.casefold() and w.lower() != "and"
)
NAMES = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)


@given(
    name=NAMES,
    case=st.sampled_from([str.upper, str.lower, str.title, str]),
    wrap=st.sampled_from(['"{}"', "{}.", " {} ", "'{}'", "{}!"]),
)
def test_text_case_and_punctuation(name: str, case: object, wrap: str) -> None:
    assert callable(case)
    text = wrap.format(case(name))
    assert check_answer(ExpectedAnswer("text", name), text).correct, text


@given(name=NAMES, other=NAMES)
def test_text_mismatch(name: str, other: str) -> None:
    assume(normalise_text(other) != normalise_text(name) and normalise_text(name) not in normalise_text(other))
    assert not check_answer(ExpectedAnswer("text", name), other).correct


@given(items=st.lists(NAMES, min_size=2, max_size=5, unique_by=lambda s: normalise_text(s)), data=st.data())
def test_unordered_list_any_order_and_separator(items: list[str], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(items))
    sep = data.draw(st.sampled_from([", ", "; ", "\n", " and "]))
    text = sep.join(s.upper() if i % 2 else s for i, s in enumerate(shuffled))
    assert check_answer(ExpectedAnswer("list", tuple(items), ordered=False), text).correct, text
    oxford = ", ".join(shuffled[:-1]) + ", and " + shuffled[-1]
    assert check_answer(ExpectedAnswer("list", tuple(items), ordered=False), oxford).correct, oxford


@given(items=st.lists(NAMES, min_size=2, max_size=5, unique_by=lambda s: normalise_text(s)), data=st.data())
def test_ordered_list_order_matters(items: list[str], data: st.DataObject) -> None:
    numbered = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(items))
    assert check_answer(ExpectedAnswer("list", tuple(items), ordered=True), numbered).correct
    shuffled = data.draw(st.permutations(items))
    assume(shuffled != items)
    assert not check_answer(ExpectedAnswer("list", tuple(items), ordered=True), ", ".join(shuffled)).correct


def test_list_items_may_contain_and() -> None:
    expected = ExpectedAnswer("list", ("Oil and Gas", "Retail", "Research and Development"), ordered=False)
    assert check_answer(expected, "Retail, Research and Development and Oil and Gas").correct
    assert check_answer(expected, "Retail; Oil & Gas; Research & Development").correct
    assert not check_answer(expected, "Retail, Oil, Gas").correct


# -------------------------------------------------------------------------------------------- robustness

ANSWERS = [
    ExpectedAnswer("number", 12.5, "%", Tolerance(abs=0.05)),
    ExpectedAnswer("number", 1350.0, "USD millions", REL),
    ExpectedAnswer("number", 3.0, "x"),
    ExpectedAnswer("number", 7.0, None),
    ExpectedAnswer("text", "Cloud"),
    ExpectedAnswer("list", ("A", "B"), ordered=False),
    ExpectedAnswer(
        "template",
        None,
        template="Revenue was {rev} in FY2024, a change of {chg}%.",
        blanks=(Blank("rev", 1500.0, "USD millions", REL), Blank("chg", 11.1, "%", Tolerance(abs=0.1))),
    ),
]


@settings(max_examples=300)
@given(text=st.text(), which=st.integers(min_value=0, max_value=len(ANSWERS) - 1))
@example(text="(" * 200 + "1" + ")" * 200, which=0)
@example(text="9" * 400 + "%", which=0)
@example(text="$,,,.5e)", which=1)
def test_check_answer_never_raises(text: str, which: int) -> None:
    result = check_answer(ANSWERS[which], text)
    assert isinstance(result.correct, bool)
    assert isinstance(extract_final_answer(text), str)
    parse_numbers(text)


SOUP = st.lists(st.sampled_from([*"0123456789.,-()$%xkmb ", "bn", "million", "bps", "USD", "e5", "−"]), max_size=30)


@given(text=SOUP.map("".join))
def test_parse_numbers_on_number_soup(text: str) -> None:
    for n in parse_numbers(text):
        assert n.value == n.value  # never NaN
        assert 0 <= n.start < len(text)


def test_template_answers() -> None:
    answer = ANSWERS[-1]
    assert check_answer(answer, "Revenue was $1.5 billion in FY2024, a change of 11.1%.").correct
    assert check_answer(answer, "1,500 USD millions, up 11.12%").correct  # wording not kept: numbers in order
    assert not check_answer(answer, "Revenue was 1500 in FY2024, a change of 12%.").correct
