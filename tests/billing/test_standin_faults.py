"""The stand-in's fault knobs: API answers the client must retry (or not), idempotency, and misbehaving webhooks."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import stripe
from standin_support import API_KEY, NO_PROXY, Standin


def attempts(standin: Standin, key: str) -> list[Any]:
    return [r["status"] for r in standin.requests() if r["idempotency_key"] == key]


def make_customer(standin: Standin, key: str, **params: Any) -> Any:
    return standin.client.v1.customers.create(
        params={"email": "firm@x.example", **params}, options={"idempotency_key": key}
    )


# --- API faults -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("faults", [[500], [409], ["reset"], [409, "reset"], [503, 500]])
def test_retryable_faults_are_retried_with_the_same_key(standin: Standin, faults: list[Any]) -> None:
    standin.control("POST", "/_test/faults", {"next": faults})
    customer = make_customer(standin, "customer:firm-1")
    assert attempts(standin, "customer:firm-1") == [*faults, 200]
    assert [c.id for c in standin.client.v1.customers.list().data] == [customer.id]


def test_generated_keys_are_reused_across_retries(standin: Standin) -> None:
    standin.control("POST", "/_test/faults", {"next": [500]})
    standin.client.v1.customers.create(params={"email": "auto@x.example"})
    posts = [r for r in standin.requests() if r["method"] == "POST"]
    assert [r["status"] for r in posts] == [500, 200]
    assert posts[0]["idempotency_key"] and posts[0]["idempotency_key"] == posts[1]["idempotency_key"]


def test_429_is_retried_only_when_stripe_should_retry_says_so(standin: Standin) -> None:
    standin.control("POST", "/_test/faults", {"next": [429]})
    with pytest.raises(stripe.RateLimitError):
        make_customer(standin, "k-429")
    standin.control("POST", "/_test/faults", {"next": [{"status": 429, "should_retry": True}]})
    make_customer(standin, "k-429-retry")
    assert attempts(standin, "k-429-retry") == [429, 200]


def test_should_retry_false_stops_the_client(standin: Standin) -> None:
    standin.control("POST", "/_test/faults", {"next": [{"status": 500, "should_retry": False}]})
    with pytest.raises(stripe.APIError):
        make_customer(standin, "k-no-retry")
    assert attempts(standin, "k-no-retry") == [500]
    assert standin.client.v1.customers.list().data == []


def test_too_many_faults_surface_as_errors(standin: Standin) -> None:
    standin.control("POST", "/_test/faults", {"next": ["reset", "reset", "reset"]})
    with pytest.raises(stripe.APIConnectionError):
        make_customer(standin, "k-reset")
    assert attempts(standin, "k-reset") == ["reset", "reset", "reset"]


# --- idempotency ----------------------------------------------------------------------------------------------


def raw_post(standin: Standin, path: str, form: str, key: str, auth: str | None = None) -> tuple[int, dict, Any]:
    request = urllib.request.Request(
        standin.url + path,
        data=form.encode(),
        method="POST",
        headers={
            "Authorization": auth or f"Bearer {API_KEY}",
            "Idempotency-Key": key,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with NO_PROXY.open(request, timeout=10) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers


def test_identical_replay_returns_the_stored_answer(standin: Standin) -> None:
    first = make_customer(standin, "customer:firm-7", metadata={"firm_id": "7"})
    again = make_customer(standin, "customer:firm-7", metadata={"firm_id": "7"})
    assert again.id == first.id and len(standin.client.v1.customers.list().data) == 1
    status, body, headers = raw_post(
        standin, "/v1/customers", "email=firm%40x.example&metadata[firm_id]=7", "customer:firm-7"
    )
    assert (status, body["id"], headers["Idempotent-Replayed"]) == (200, first.id, "true")
    keys = {row["key"]: row for row in standin.control("GET", "/_test/idempotency_keys")["data"]}
    assert keys["customer:firm-7"]["replays"] == 2 and keys["customer:firm-7"]["path"] == "/v1/customers"
    assert keys["customer:firm-7"]["params"] == {"email": "firm@x.example", "metadata": {"firm_id": "7"}}


def test_changed_params_under_the_same_key_are_refused(standin: Standin) -> None:
    make_customer(standin, "customer:firm-8")
    with pytest.raises(stripe.IdempotencyError):
        make_customer(standin, "customer:firm-8", name="another")
    assert len(standin.client.v1.customers.list().data) == 1


def test_keys_are_per_api_key_and_basic_auth_works(standin: Standin) -> None:
    basic = "Basic " + base64.b64encode(b"sk_test_other_key:").decode()
    status, body, _ = raw_post(standin, "/v1/customers", "email=a%40x.example", "shared-key", basic)
    assert status == 200
    status, other, _ = raw_post(standin, "/v1/customers", "email=b%40x.example", "shared-key")
    assert status == 200 and other["id"] != body["id"]
    status, error, _ = raw_post(standin, "/v1/customers", "email=a%40x.example", "k", "Bearer pk_test_123")
    assert status == 401 and error["error"]["type"] == "invalid_request_error"


# --- webhook knobs --------------------------------------------------------------------------------------------


def three_events(standin: Standin) -> list[str]:
    """One request that emits three events (product.created, price.created, ...) in one batch."""
    standin.client.v1.prices.create(params={"product_data": {"name": "P"}, "currency": "cny", "unit_amount": 100})
    standin.client.v1.customers.create(params={"email": "e@x.example"})
    return [e.id for e in reversed(standin.client.v1.events.list().data)]


def received_ids(standin: Standin) -> list[str]:
    return [d.event_id for d in standin.receiver.verified()]


def test_duplicates_arrive_as_configured(standin: Standin) -> None:
    standin.control("POST", "/_test/webhooks", {"duplicate": 3})
    ids = three_events(standin)
    standin.wait()
    assert sorted(received_ids(standin)) == sorted(ids * 3)


def test_reverse_order_within_a_batch(standin: Standin) -> None:
    standin.control("POST", "/_test/webhooks", {"order": "reverse", "hold": True})
    ids = three_events(standin)
    standin.control("POST", "/_test/webhooks/release", {})
    standin.wait()
    assert received_ids(standin) == list(reversed(ids))


def test_shuffled_duplicates_are_a_seeded_permutation(standin: Standin) -> None:
    standin.control("POST", "/_test/webhooks", {"order": "shuffle", "seed": 11, "duplicate": 2, "hold": True})
    three_events(standin)
    ids = three_events(standin)
    standin.control("POST", "/_test/webhooks/release", {})
    standin.wait()
    got = received_ids(standin)
    assert sorted(got) == sorted(ids * 2) and got != [i for i in ids for _ in range(2)]


def test_held_events_arrive_late_on_release(standin: Standin) -> None:
    standin.control("POST", "/_test/webhooks", {"hold": True})
    ids = three_events(standin)
    standin.wait()
    assert received_ids(standin) == []
    assert standin.control("GET", "/_test/webhooks")["held"] == ids
    assert {e.id for e in standin.client.v1.events.list(params={"delivery_success": False}).data} == set(ids)
    assert standin.control("POST", "/_test/webhooks/release", {"hold": False})["released"] == len(ids)
    standin.wait()
    assert received_ids(standin) == ids


def test_delay_ms_queues_before_delivering(standin: Standin) -> None:
    standin.control("POST", "/_test/webhooks", {"delay_ms": 3000})
    ids = three_events(standin)
    assert standin.control("GET", "/_test/webhooks")["queued"] == len(ids)
    standin.wait()
    assert received_ids(standin) == ids


@pytest.mark.parametrize("fault", ["bad_signature", "stale_timestamp"])
def test_bad_signature_and_stale_timestamp_are_refused_then_retried(standin: Standin, fault: str) -> None:
    standin.control("POST", "/_test/webhooks", {fault: 1})
    ids = three_events(standin)
    standin.wait()
    rejected = standin.receiver.rejected()
    assert [d.event_id for d in rejected] == [ids[0]] and rejected[0].status == 400
    assert ("timestamp" in rejected[0].error.lower()) == (fault == "stale_timestamp")
    assert received_ids(standin) == [ids[1], ids[2], ids[0]]  # the first one again, correctly signed, after a backoff
    rows = standin.control("GET", "/_test/webhooks/deliveries", {"event": ids[0]})["data"]
    assert [(r["attempt"], r["fault"], r["status"]) for r in rows] == [(1, fault, 400), (2, None, 200)]


def test_a_failing_receiver_is_retried_until_2xx(standin: Standin) -> None:
    standin.receiver.fail_next = 2
    ids = three_events(standin)
    standin.wait()
    assert sorted(received_ids(standin)) == sorted([ids[0], ids[1], *ids])
    assert standin.client.v1.events.list(params={"delivery_success": False}).data == []


def test_bounded_retries_leave_the_event_undelivered(standin: Standin) -> None:
    standin.receiver.fail_types = {"customer.created"}
    ids = three_events(standin)
    standin.wait()
    assert [e.id for e in standin.client.v1.events.list(params={"delivery_success": False}).data] == [ids[-1]]
    rows = standin.control("GET", "/_test/webhooks/deliveries", {"event": ids[-1]})["data"]
    assert [(r["attempt"], r["status"]) for r in rows] == [(1, 500), (2, 500), (3, 500), (4, 500)]  # fixture: 4 tries


def test_dropped_event_is_listed_for_reconciliation(standin: Standin) -> None:
    standin.control("POST", "/_test/webhooks", {"drop": 1, "drop_types": ["customer.created"]})
    ids = three_events(standin)
    standin.wait()
    dropped = ids[-1]
    assert received_ids(standin) == ids[:-1]
    undelivered = standin.client.v1.events.list(params={"delivery_success": False, "types": ["customer.created"]})
    assert [e.id for e in undelivered.data] == [dropped]
    since = standin.client.v1.events.list(params={"delivery_success": False, "ending_before": ids[0]})
    assert [e.id for e in since.data] == [dropped]
    standin.control("POST", f"/_test/events/{dropped}/deliver", {})
    standin.wait()
    assert standin.client.v1.events.list(params={"delivery_success": False}).data == []


def test_parallel_duplicates_arrive_at_the_same_moment(standin: Standin) -> None:
    import threading

    standin.receiver.barrier = threading.Barrier(2)
    standin.control("POST", "/_test/webhooks", {"parallel": True, "duplicate": 2, "hold": True})
    customer = standin.client.v1.customers.create(params={"email": "twice@x.example"})
    standin.control("POST", "/_test/webhooks/release", {})
    standin.wait()
    assert standin.receiver.rejected() == []
    event = standin.client.v1.events.list().data[0]
    assert event.data.object.id == customer.id and received_ids(standin) == [event.id, event.id]


def test_a_refused_request_is_not_stored_under_its_key(standin: Standin) -> None:
    params = {"product_data": {"name": "P"}, "currency": "cny", "unit_amount": 100, "lookup_key": "report"}
    first = standin.client.v1.prices.create(params=params)
    with pytest.raises(stripe.InvalidRequestError):  # the lookup key is taken
        standin.client.v1.prices.create(params=params, options={"idempotency_key": "price:report:2"})
    standin.client.v1.prices.update(first.id, params={"lookup_key": ""})
    second = standin.client.v1.prices.create(params=params, options={"idempotency_key": "price:report:2"})
    assert second.lookup_key == "report" and second.id != first.id
    assert [r["replayed"] for r in standin.requests() if r["idempotency_key"] == "price:report:2"] == [False, False]
