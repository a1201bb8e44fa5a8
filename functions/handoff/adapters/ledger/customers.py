"""Customer master on the ledger: match by ERP id, tax id, then name + country; else create once."""

from dataclasses import dataclass
from typing import Any

from handoff.adapters.ledger.names import name_key, tax_key
from handoff.adapters.ledger.store import SYSTEM, Contended, LedgerAdapter, derived_id
from handoff.contracts import Account, CustomerRef
from handoff.domain.errors import IntegrationTransient, MasterDataConflict

OPERATION = "match_or_create_customer"
# A lost create race is followed by a fresh match; more rounds than this means something is wrong.
_ROUNDS = 3


def customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def taxid_pk(key: str) -> str:
    return f"TAXID#{key}"


def name_pk(country: str, key: str) -> str:
    return f"NAME#{country}#{key}"


@dataclass(frozen=True)
class _Probe:
    """The account reduced to what matching compares."""

    account: Account
    tax: str | None
    name: str

    @classmethod
    def of(cls, account: Account) -> "_Probe":
        return cls(account, tax_key(account.tax_id), name_key(account.legal_name))


class LedgerCustomerMaster(LedgerAdapter):
    def match_or_create(self, account: Account, *, idempotency_key: str) -> CustomerRef:
        prior = self._store.replay(OPERATION, idempotency_key)
        if prior is not None:
            return CustomerRef.model_validate(prior)
        probe = _Probe.of(account)
        for _ in range(_ROUNDS):
            found = self._match(probe)
            if found is not None:
                return _ref(found, "existing")
            try:
                return self._create(probe, idempotency_key)
            except Contended:
                prior = self._store.replay(OPERATION, idempotency_key)
                if prior is not None:  # the same handoff created it concurrently
                    return CustomerRef.model_validate(prior)
        raise IntegrationTransient(f"{SYSTEM}: customer {account.legal_name!r} stayed contended")

    # Matching --------------------------------------------------------------------------------
    def _match(self, probe: _Probe) -> dict[str, Any] | None:
        account = probe.account
        if account.erp_customer_id:
            found = self._customer(account.erp_customer_id)
            if found is not None:
                return self._checked(found, probe, "ERP customer id")
        if probe.tax:
            found = self._via(taxid_pk(probe.tax), "TAXID")
            if found is not None:
                return self._checked(found, probe, "tax id")
        found = self._via(name_pk(account.country, probe.name), "NAME")
        if found is not None:
            return self._checked(found, probe, "legal name and country")
        return None

    def _checked(self, customer: dict[str, Any], probe: _Probe, via: str) -> dict[str, Any]:
        """Refuse a match whose master data disagrees with the account; the master is never overwritten."""
        account, cid = probe.account, customer["erpCustomerId"]
        problems = []
        if account.erp_customer_id and account.erp_customer_id != cid:
            problems.append(f"the account names ERP customer {account.erp_customer_id}")
        if customer["country"] != account.country:
            problems.append(f"country is {customer['country']} in the ERP but {account.country} on the account")
        if probe.tax and customer.get("taxKey") and customer["taxKey"] != probe.tax:
            problems.append(f"tax id is {customer.get('taxId')} in the ERP but {account.tax_id} on the account")
        tax_confirms = bool(probe.tax) and customer.get("taxKey") == probe.tax
        if not tax_confirms and customer["nameKey"] != probe.name:
            problems.append(f"legal name is {customer['legalName']!r} in the ERP but {account.legal_name!r}")
        if probe.tax and not customer.get("taxKey"):
            owner = self._store.get(taxid_pk(probe.tax), "TAXID")
            if owner and owner["customerId"] != cid:
                problems.append(f"tax id {account.tax_id} belongs to ERP customer {owner['customerId']}")
        if problems:
            raise MasterDataConflict(
                f"customer master conflict for {account.legal_name!r}: matched ERP customer {cid} by {via}, "
                f"but {'; '.join(problems)}. Fix the CRM account or the ERP record; nothing was changed.",
                system=SYSTEM,
                detail={"erpCustomerId": cid, "matchedBy": via, "problems": problems},
            )
        return customer

    def _customer(self, customer_id: str) -> dict[str, Any] | None:
        return self._store.get(customer_pk(customer_id), "PROFILE")

    def _via(self, pk: str, sk: str) -> dict[str, Any] | None:
        pointer = self._store.get(pk, sk)
        return self._customer(pointer["customerId"]) if pointer else None

    # Creation --------------------------------------------------------------------------------
    def _create(self, probe: _Probe, idempotency_key: str) -> CustomerRef:
        """Customer plus its uniqueness items in one transaction: of two racing creates, one wins."""
        account, store = probe.account, self._store
        # A CRM-known ERP id that the ledger lacks is adopted, so the CRM and the ledger agree.
        cid = account.erp_customer_id or derived_id("CUST", OPERATION, idempotency_key)
        now = store.now()
        profile = {
            "pk": customer_pk(cid),
            "sk": "PROFILE",
            "type": "customer",
            "erpCustomerId": cid,
            "legalName": account.legal_name,
            "country": account.country,
            "taxId": account.tax_id,
            "taxKey": probe.tax,
            "nameKey": probe.name,
            "crmId": account.crm_id,
            "billingAddress": account.billing_address.model_dump(mode="json", by_alias=True),
            "billingContact": account.billing_contact.model_dump(mode="json", by_alias=True),
            "createdAt": now,
            "idempotencyKey": idempotency_key,
        }
        pointer = {"type": "unique", "customerId": cid, "createdAt": now}
        actions = [
            store.put_new(profile),
            store.put_new({"pk": name_pk(account.country, probe.name), "sk": "NAME", **pointer}),
        ]
        if probe.tax:
            actions.append(store.put_new({"pk": taxid_pk(probe.tax), "sk": "TAXID", **pointer}))
        ref = _ref(profile, "created")
        actions.append(store.idempotency_record(OPERATION, idempotency_key, ref.to_json_dict()))
        store.transact(actions)
        return ref


def _ref(customer: dict[str, Any], match: str) -> CustomerRef:
    return CustomerRef(
        erp_customer_id=customer["erpCustomerId"],
        legal_name=customer["legalName"],
        country=customer["country"],
        match=match,
    )
