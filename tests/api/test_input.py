"""Strict request input: what a lenient parser accepted (issue 12, item 4) is refused, by field,
and changes nothing."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from embedfin.api import schemas
from embedfin.api.bodies import DuplicateKey, StrictJsonRoute, loads_strict
from embedfin.api.routes import RESOURCES
from embedfin.api.schemas.common import Model, control_character
from tests.api.conftest import Api

LAX_INTEGERS = ["25.00", True, "100", " 100", 1000.0, 12.5, None, [100], {"v": 100}]


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def _balance(api: Api, customer: str) -> int:
    found = api.ok(api.get(api.a, f"/v1/customers/{customer}/balance", currency="EUR"))
    return int(found["available"])


@pytest.mark.parametrize("amount", LAX_INTEGERS)
def test_a_top_up_amount_is_a_json_integer_or_refused(api: Api, amount: object) -> None:
    buyer = api.customer(api.a)
    answer = api.post(
        api.a, f"/v1/customers/{buyer}/top_ups", {"amount": amount, "currency": "EUR"}
    )
    body = _problem(answer, 422, "invalid_request")
    assert ["body", "amount"] in [e["loc"][:2] for e in body["errors"]]
    assert _balance(api, buyer) == 0


@pytest.mark.parametrize("field", ["unit_price", "quantity"])
@pytest.mark.parametrize("value", ["25.00", True, "1", 1.0])
def test_order_lines_take_integers_only(api: Api, field: str, value: object) -> None:
    merchant, buyer = api.merchant(api.a), api.customer(api.a, funds=10_000)
    line = {"sku": "book", "quantity": 1, "unit_price": 2_500} | {field: value}
    body = {"customer": buyer, "merchant": merchant, "currency": "EUR", "lines": [line]}
    problem = _problem(api.post(api.a, "/v1/checkouts", body), 422, "invalid_request")
    assert ["body", "lines", "0", field] in [e["loc"] for e in problem["errors"]]
    assert api.ok(api.get(api.a, "/v1/orders"))["data"] == []


def _int_fields(model: type[BaseModel]) -> list[str]:
    found = []
    for name, info in model.model_fields.items():
        kinds = typing.get_args(info.annotation) or (info.annotation,)
        if int in kinds:
            found.append(name)
    return found


REQUEST_MODELS = [
    m
    for m in vars(schemas).values()
    if isinstance(m, type) and issubclass(m, Model) and m is not Model
]


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda m: m.__name__)
def test_every_integer_of_every_request_body_is_strict(model: type[Model]) -> None:
    for name in _int_fields(model):
        for lax in ("1", True, 1.0):
            with pytest.raises(ValidationError) as refused:
                model.model_validate({name: lax})
            assert any(e["loc"][0] == name for e in refused.value.errors()), (name, lax)


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda m: m.__name__)
def test_no_string_field_of_any_request_body_takes_a_nul(model: type[Model]) -> None:
    for name, info in model.model_fields.items():
        kinds = typing.get_args(info.annotation) or (info.annotation,)
        if str in kinds or any(typing.get_origin(k) is typing.Annotated for k in kinds):
            with pytest.raises(ValidationError) as refused:
                model.model_validate({name: "ok\x00"})
            assert any(e["loc"][0] == name for e in refused.value.errors()), name


@pytest.mark.parametrize(
    ("text", "multiline", "found"),
    [
        ("Ada", False, None),
        ("Zoë 李 😀", False, None),
        ("a\x00b", False, "U+0000"),
        ("tab\there", False, "U+0009"),
        ("tab\there", True, None),
        ("line\r\nbreak", True, None),
        ("bell\x07", True, "U+0007"),
        ("del\x7f", False, "U+007F"),
        ("c1\x85", True, "U+0085"),
        ("sep\u2028", True, "U+2028"),
        ("evil\u202egnp.exe", False, "U+202E"),
        ("isolate\u2066", False, "U+2066"),
        ("lone \ud800 surrogate", False, "U+D800"),
    ],
)
def test_control_characters(text: str, multiline: bool, found: str | None) -> None:
    assert control_character(text, multiline=multiline) == found


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/customers", {"name": "Ada\x00Lovelace"}, "name"),
        ("/v1/customers", {"name": "Ada", "email": "ada\x00@example.org"}, "email"),
        ("/v1/webhook_endpoints", {"url": "https://a.example/\x00", "event_types": ["*"]}, "url"),
        ("/v1/api_keys", {"role": "operator", "name": "ci\nkey"}, "name"),
    ],
)
def test_control_characters_are_refused_in_every_string(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    problem = _problem(api.post(api.a, path, body), 422, "invalid_request")
    assert ["body", field] in [e["loc"][:2] for e in problem["errors"]]
    assert "control character" in problem["detail"]


def test_a_review_may_span_lines_but_holds_no_nul(api: Api) -> None:
    merchant, buyer = api.merchant(api.a), api.customer(api.a, funds=5_000)
    order = api.checkout(api.a, buyer, merchant)
    path = f"/v1/orders/{order}/reviews"
    refused = api.post(api.a, path, {"rating": 5, "text": "great\x00 book"})
    assert _problem(refused, 422, "invalid_request")["errors"][0]["loc"] == ["body", "text"]
    api.ok(api.post(api.a, f"/v1/orders/{order}/ship", {"tracking": "DHL-1"}))
    api.ok(api.post(api.a, f"/v1/orders/{order}/confirm"))
    api.ok(api.post(api.a, path, {"rating": 5, "text": "Great book.\nWould buy again."}))


@pytest.mark.parametrize(
    "name", ["", " ", "   ", "\u00a0", "\u00a0\u00a0", "\u3000", "\u200b", " \ufeff "]
)
def test_blank_names_are_refused(api: Api, name: str) -> None:
    problem = _problem(api.post(api.a, "/v1/customers", {"name": name}), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == ["body", "name"]


def test_a_name_with_inner_spaces_is_a_name(api: Api) -> None:
    api.ok(api.post(api.a, "/v1/customers", {"name": "Ada\u00a0Lovelace"}), 201)


def test_ids_in_the_path_and_query_carry_no_control_characters(api: Api) -> None:
    problem = _problem(api.get(api.a, "/v1/orders/ord_%00"), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == ["path", "order_id"]
    problem = _problem(api.get(api.a, "/v1/orders", customer="cus_\x00"), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == ["query", "customer"]


def test_duplicate_json_keys_are_refused(api: Api) -> None:
    buyer = api.customer(api.a)
    path = f"/v1/customers/{buyer}/top_ups"
    twice = '{"amount": 1, "currency": "EUR", "amount": 100000}'
    answer = api.post_raw(api.a, path, twice, **{"Idempotency-Key": "dup-1"})
    problem = _problem(answer, 400, "duplicate_json_key")
    assert '"amount"' in problem["detail"]
    nested = '{"amount": 1, "currency": "EUR", "x": {"a": 1, "a": 2}}'
    _problem(
        api.post_raw(api.a, path, nested, **{"Idempotency-Key": "dup-2"}), 400, "duplicate_json_key"
    )
    assert _balance(api, buyer) == 0


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(api: Api, constant: str) -> None:
    buyer = api.customer(api.a)
    body = f'{{"amount": {constant}, "currency": "EUR"}}'
    answer = api.post_raw(api.a, f"/v1/customers/{buyer}/top_ups", body, **{"Idempotency-Key": "n"})
    _problem(answer, 422, "invalid_request")


def test_the_strict_decoder() -> None:
    assert loads_strict('{"a": [{"b": 1}, {"b": 2}], "c": {"b": 3}}') == {
        "a": [{"b": 1}, {"b": 2}],
        "c": {"b": 3},
    }
    with pytest.raises(DuplicateKey, match="b"):
        loads_strict('{"a": 1, "b": 2, "b": 2}')
    with pytest.raises(json.JSONDecodeError):
        loads_strict('{"a": NaN}')


def test_every_v1_route_decodes_strictly(api: Api) -> None:
    routes = [r for resource in RESOURCES for r in resource.router.routes]
    assert all(isinstance(r, StrictJsonRoute) for r in routes), [
        getattr(r, "path", r) for r in routes if not isinstance(r, StrictJsonRoute)
    ]
    strict = {getattr(r, "path", "") for r in routes}
    documented = set(api.ok(api.client.get("/openapi.json"))["paths"])
    assert {p for p in documented if p.startswith("/v1/")} <= strict


@pytest.mark.parametrize("category", ["bookz", "BOOKS", "", "books "])
def test_merchant_categories_come_from_the_catalogue(api: Api, category: str) -> None:
    body = {"category": category, "country": "DE", "settlement_currency": "EUR"}
    problem = _problem(api.post(api.a, "/v1/merchants", body), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == ["body", "category"]
    assert api.ok(api.get(api.a, "/v1/merchants"))["data"] == []


def test_a_credit_decision_names_a_catalogued_category(api: Api) -> None:
    buyer = api.customer(api.a)
    body = {"customer": buyer, "amount": 10_000, "currency": "EUR", "category": "bookz"}
    problem = _problem(api.post(api.a, "/v1/credit_decisions", body), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == ["body", "category"]


def test_a_registered_merchant_is_pending_until_the_operator_states_verified(api: Api) -> None:
    body = {"category": "books", "country": "DE", "settlement_currency": "EUR"}
    pending = api.ok(api.post(api.a, "/v1/merchants", body), 201)
    assert pending["kyc_status"] == "pending"
    buyer = api.customer(api.a, funds=5_000)
    order = {
        "customer": buyer,
        "merchant": pending["id"],
        "currency": "EUR",
        "lines": [{"sku": "book", "quantity": 1, "unit_price": 1_000}],
    }
    _problem(api.post(api.a, "/v1/checkouts", order), 409, "invalid_state_transition")
    assert _balance(api, buyer) == 5_000
    verified = api.ok(api.post(api.a, "/v1/merchants", body | {"kyc_status": "verified"}), 201)
    api.ok(api.post(api.a, "/v1/checkouts", order | {"merchant": verified["id"]}), 201)
    entries = api.ok(api.get(api.a, "/v1/audit_log", limit=100))["data"]
    stated = [
        e for e in entries if e["action"] == "merchant.create" and e["target"] == verified["id"]
    ]
    assert stated[0]["detail"] == {"kyc": "verified"}


@pytest.mark.parametrize("limit", [2**63 - 1, 2**62, 2_000_001])
def test_a_credit_line_limit_stays_within_the_revolving_plan(api: Api, limit: int) -> None:
    buyer = api.customer(api.a)
    body = {"customer": buyer, "limit": limit, "currency": "EUR"}
    problem = _problem(api.post(api.a, "/v1/credit_lines", body), 422, "limit_exceeded")
    assert problem["detail"].startswith("limit:")


def test_a_credit_line_at_the_ceiling_opens_and_its_limit_cannot_be_raised_past_it(
    api: Api,
) -> None:
    buyer = api.customer(api.a)
    line = api.ok(
        api.post(
            api.a, "/v1/credit_lines", {"customer": buyer, "limit": 2_000_000, "currency": "EUR"}
        ),
        201,
    )
    raised = {"limit": 2**63 - 1, "currency": "EUR", "reason": "loyal customer"}
    _problem(api.post(api.a, f"/v1/credit_lines/{line['id']}/limit", raised), 422, "limit_exceeded")
    lowered = api.ok(
        api.post(api.a, f"/v1/credit_lines/{line['id']}/limit", raised | {"limit": 50_000})
    )
    assert lowered["limit"] == 50_000


def test_an_order_in_another_currency_than_the_merchant_sells_in_is_named_so(api: Api) -> None:
    merchant = api.merchant(api.a)  # sells in EUR
    buyer = api.customer(api.a)
    api.ok(
        api.post(api.a, f"/v1/customers/{buyer}/top_ups", {"amount": 5_000, "currency": "USD"}), 201
    )
    order = {
        "customer": buyer,
        "merchant": merchant,
        "currency": "USD",
        "lines": [{"sku": "book", "quantity": 1, "unit_price": 1_000}],
    }
    for path in ("/v1/checkouts", "/v1/orders"):
        problem = _problem(api.post(api.a, path, order), 422, "currency_mismatch")
        assert "EUR" in problem["detail"]
        assert "USD" in problem["detail"]
    assert api.ok(api.get(api.a, "/v1/orders"))["data"] == []


def _post_operations(api: Api) -> list[str]:
    spec = api.ok(api.client.get("/openapi.json"))
    return [path for path, ops in spec["paths"].items() if "post" in ops]


def test_every_post_requires_an_idempotency_key(api: Api) -> None:
    spec = api.ok(api.client.get("/openapi.json"))
    posts = _post_operations(api)
    assert len(posts) >= 35
    for path in posts:
        header = [p for p in spec["paths"][path]["post"]["parameters"] if p["in"] == "header"]
        assert [(p["name"], p["required"]) for p in header] == [("Idempotency-Key", True)], path
        concrete = path.replace("{", "x_").replace("}", "")
        answer = api.post_raw(api.a, concrete, "{}")
        _problem(answer, 400, "idempotency_key_required")


def test_two_identical_checkouts_without_a_key_charge_nothing(api: Api) -> None:
    merchant, buyer = api.merchant(api.a), api.customer(api.a, funds=5_000)
    body = {
        "customer": buyer,
        "merchant": merchant,
        "currency": "EUR",
        "lines": [{"sku": "book", "quantity": 1, "unit_price": 2_000}],
    }
    for _ in range(2):
        _problem(
            api.post_raw(api.a, "/v1/checkouts", json.dumps(body)), 400, "idempotency_key_required"
        )
    assert _balance(api, buyer) == 5_000
    keyed = api.post_raw(api.a, "/v1/checkouts", json.dumps(body), **{"Idempotency-Key": "c-1"})
    assert keyed.status_code == 201
    again = api.post_raw(api.a, "/v1/checkouts", json.dumps(body), **{"Idempotency-Key": "c-1"})
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert _balance(api, buyer) == 3_000


def test_a_missing_key_is_reported_after_authentication(api: Api) -> None:
    answer = api.client.post("/v1/customers", json={"name": "Ada"})
    _problem(answer, 401, "unauthenticated")
