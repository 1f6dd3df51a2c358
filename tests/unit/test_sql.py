"""Named statement parameters: numbered once each, casts left alone, a missing value refused."""
from __future__ import annotations

import pytest

from xinfang.sql import named


def test_each_name_is_one_parameter_numbered_in_the_order_met_and_casts_are_left_alone():
    statement = named("SELECT :a::text[], x::int FROM t WHERE y = :b AND (:a::text[] IS NULL OR z = ANY(:a))")
    assert statement.sql == "SELECT $1::text[], x::int FROM t WHERE y = $2 AND ($1::text[] IS NULL OR z = ANY($1))"
    assert statement.names == ("a", "b")


def test_a_mapping_gives_the_arguments_in_order_leaving_out_names_the_statement_does_not_use():
    statement = named("SELECT :stop, :start")
    assert statement.args({"start": 1, "stop": 2, "unused": 3}) == (2, 1)


def test_a_missing_value_is_refused_by_name():
    with pytest.raises(KeyError, match="stop"):
        named("SELECT :start, :stop").args({"start": 1})


def test_positional_and_named_parameters_do_not_mix():
    with pytest.raises(ValueError):
        named("SELECT $1, :a")
