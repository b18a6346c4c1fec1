"""Business rules, tested straight at the domain."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from auth.masks import mask_email, mask_phone
from auth.principal import Principal, Role
from domain.audit.models import AuditCollector, AuditEntry
from domain.customers.metrics import compute_metrics
from domain.customers.search import index_tokens, query_terms, sort_name
from domain.errors import InvalidInput, Unauthenticated
from domain.feedback.models import ScoreItem, satisfaction_index
from domain.feedback.repository import Scores
from domain.money import Money
from domain.paging import Position, check_page_size, decode_cursor, encode_cursor
from domain.scope import RowScope, narrowed

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_satisfaction_index_is_the_mean_of_perception_over_expectation() -> None:
    assert satisfaction_index([ScoreItem("speed", 4, 2), ScoreItem("value", 5, 5)]) == pytest.approx(0.75)
    assert satisfaction_index([]) is None
    assert ScoreItem("speed", 6, 3).gap == -3


def test_metrics_take_the_latest_nps_and_weigh_every_response_equally() -> None:
    scores = [
        Scores(T0, None, 2, (ScoreItem("a", 4, 2),)),
        Scores(T0 - timedelta(days=1), 3, 4, (ScoreItem("a", 4, 4), ScoreItem("b", 2, 4))),
        Scores(T0 - timedelta(days=2), 10, None, ()),
    ]
    metrics = compute_metrics(
        scores=scores,
        open_cases=2,
        lifetime_value=Money(100, "EUR"),
        contact_times=(None, T0 - timedelta(days=9)),
    )
    assert metrics.last_nps == 3
    assert metrics.csat_mean == pytest.approx(3.0)
    assert metrics.satisfaction_index == pytest.approx((0.5 + 1.5) / 2)
    assert metrics.responses == 3
    assert metrics.last_contact_at == T0 - timedelta(days=9)
    assert metrics.days_since_last_contact(T0) == 9


def test_metrics_of_a_customer_without_anything() -> None:
    metrics = compute_metrics(scores=[], open_cases=0, lifetime_value=Money(0, "EUR"), contact_times=())
    assert (metrics.last_nps, metrics.csat_mean, metrics.satisfaction_index, metrics.last_contact_at) == (
        None,
        None,
        None,
        None,
    )
    assert metrics.days_since_last_contact(T0) is None


def test_search_tokens_are_accent_free_prefixes_and_whole_emails() -> None:
    tokens = index_tokens(["María", "García-López"], ["M.Garcia@Example.com"])
    assert {"ma", "mar", "maria", "ga", "garcia", "lopez", "m.garcia@example.com"} <= set(tokens)
    assert "m" not in tokens
    assert query_terms("  María  GAR ") == ["maria", "gar"]
    assert query_terms("M.Garcia@Example.com") == ["m.garcia@example.com"]
    assert sort_name("Zoë", "Müller") == "muller zoe"


def test_search_tokens_transliterate_letters_that_do_not_decompose() -> None:
    tokens = set(index_tokens(["Bjørn", "Ødegård", "Łukasz", "Đorđe", "Þór", "Æsa", "Weiß"], []))
    assert {"bjorn", "odegard", "lukasz", "dorde", "thor", "aesa", "weiss"} <= tokens
    assert query_terms("BJØRN ødeg") == ["bjorn", "odeg"]
    assert query_terms("Мария") == ["mariya"]


@pytest.mark.parametrize(
    ("email", "masked"),
    [("jane.doe@example.com", "j***@example.com"), ("x@y.org", "x***@y.org"), ("broken", "***")],
)
def test_email_mask_keeps_the_first_letter_and_the_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+44 20 7946 0123", "+44 *** *** 123"), ("+1 555 010 9999", "+1 *** *** 999"), ("0123", "***")],
)
def test_phone_mask_keeps_the_country_code_and_last_three_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "a", "role": "frontline"},
        {"sub": "a", "role": "manager", "regions": []},
        {"sub": "a", "role": "board", "regions": ["north"]},
        {"sub": "a", "role": "root"},
        {"sub": "", "role": "board"},
        {"sub": "a", "role": "frontline", "regions": "north"},
    ],
)
def test_claims_that_do_not_fit_the_role_are_rejected(claims: dict[str, object]) -> None:
    with pytest.raises(Unauthenticated):
        Principal.from_claims(claims)


def test_principal_of_a_regional_role() -> None:
    principal = Principal.from_claims({"sub": "e1", "role": "manager", "regions": ["north", "north", "east"]})
    assert principal == Principal("e1", Role.MANAGER, ("north", "east"))


def test_cursors_round_trip_and_refuse_other_lists_and_garbage() -> None:
    position = Position(T0, "6a0000000000000000000001")
    assert Position.from_cursor("Case", position.cursor("Case")) == position
    with pytest.raises(InvalidInput):
        Position.from_cursor("Transaction", position.cursor("Case"))
    with pytest.raises(InvalidInput):
        decode_cursor("Case", "!!not base64!!", parts=2)
    with pytest.raises(InvalidInput):
        decode_cursor("Case", encode_cursor("Case", "only-one-part"), parts=2)


@pytest.mark.parametrize("first", [0, -1, 101])
def test_page_size_must_be_between_1_and_100(first: int) -> None:
    with pytest.raises(InvalidInput):
        check_page_size(first)


def test_row_scope_filters() -> None:
    assert RowScope.everything().customer_filter() == {}
    assert RowScope.of_regions(("north",)).record_filter() == {"region": {"$in": ["north"]}}
    assert RowScope.of_customer("c1").customer_filter() == {"_id": "c1"}
    assert RowScope.of_customer("c1").record_filter() == {"customerId": "c1"}
    assert RowScope.none().customer_filter() == {"_id": {"$in": []}}
    assert narrowed({"customerId": "a"}, {"region": "n"}) == {"customerId": "a", "region": "n"}


def test_a_field_named_by_the_query_and_the_scope_keeps_the_values_both_allow() -> None:
    assert narrowed({"_id": {"$in": ["a", "b"]}}, {"_id": "b"}) == {"_id": {"$in": ["b"]}}
    assert narrowed({"_id": {"$in": ["a"]}}, {"_id": "b"}) == {"_id": {"$in": []}}
    assert narrowed({"region": "n", "state": "OPEN"}, {"region": {"$in": ["n", "s"]}}) == {
        "region": {"$in": ["n"]},
        "state": "OPEN",
    }
    assert narrowed({"_id": {"$in": ["a", "b"]}}, {"_id": {"$in": []}}) == {"_id": {"$in": []}}


def test_conditions_other_than_values_on_the_same_field_are_both_kept_under_and() -> None:
    assert narrowed({"region": {"$ne": "n"}}, {"region": {"$in": ["n"]}}) == {
        "$and": [{"region": {"$ne": "n"}}, {"region": {"$in": ["n"]}}]
    }
    either = {"$or": [{"region": "n"}, {"assigneeId": "e"}]}
    assert narrowed({"$or": [{"a": 1}, {"b": 2}], "state": "OPEN"}, either) == {
        "$and": [{"$or": [{"a": 1}, {"b": 2}], "state": "OPEN"}, either]
    }
    assert narrowed({"tags": ["x", "y"]}, {"tags": "x"}) == {"$and": [{"tags": ["x", "y"]}, {"tags": "x"}]}
    pattern = re.compile("^n")
    assert narrowed({"region": {"$in": [pattern]}}, {"region": "n"}) == {
        "$and": [{"region": {"$in": [pattern]}}, {"region": "n"}]
    }


def test_the_audit_collector_hands_out_each_read_once() -> None:
    collector = AuditCollector()
    collector.saw("c1", "emails")
    collector.saw("c1", "phones")
    collector.saw("c1", "emails")

    def drain() -> list[AuditEntry]:
        return collector.drain(
            subject="s", role="frontline", operation=None, request_id="r", at=T0, new_id=lambda: "x"
        )

    assert [e.fields for e in drain()] == [("emails", "phones")]
    assert drain() == []
