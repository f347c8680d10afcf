"""A process's memory of the users it wrote to: bounded, the oldest forgotten first."""

from __future__ import annotations

from graphlang.storage.owners import Owner, Owners

TENANT = "a1a1a1a1-0000-4000-8000-000000000001"


def _owner(number: int) -> Owner:
    return Owner(f"id-{number}", TENANT, f"user{number}@contoso.com", f"User{number}@contoso.com", None)


def test_owners_are_found_by_tenant_and_key() -> None:
    owners = Owners()
    owners.remember(TENANT, "user1@contoso.com", _owner(1))

    assert owners.get(TENANT, "user1@contoso.com") == _owner(1)
    assert owners.get("b2b2b2b2-0000-4000-8000-000000000002", "user1@contoso.com") is None


def test_past_capacity_the_oldest_owner_is_forgotten_first() -> None:
    owners = Owners(capacity=2)
    for number in (1, 2, 3):
        owners.remember(TENANT, f"id-{number}", _owner(number))

    assert [owners.get(TENANT, f"id-{number}") for number in (1, 2, 3)] == [None, _owner(2), _owner(3)]


def test_remembering_a_held_key_again_forgets_no_other() -> None:
    owners = Owners(capacity=2)
    owners.remember(TENANT, "id-1", _owner(1))
    owners.remember(TENANT, "id-2", _owner(2))
    owners.remember(TENANT, "id-2", _owner(2))

    assert owners.get(TENANT, "id-1") == _owner(1)


def test_forget_and_clear() -> None:
    owners = Owners()
    owners.remember(TENANT, "id-1", _owner(1))
    owners.remember(TENANT, "id-2", _owner(2))
    owners.forget(TENANT, "id-1")
    owners.forget(TENANT, "id-9")  # not held: nothing to do
    assert owners.get(TENANT, "id-1") is None and owners.get(TENANT, "id-2") == _owner(2)

    owners.clear()
    assert owners.get(TENANT, "id-2") is None
