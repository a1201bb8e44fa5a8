"""Projects, billing schedules, requisitions and the CRM write-back on the ledger."""

from handoff.adapters.ledger.store import SYSTEM, LedgerAdapter, derived_id, refused
from handoff.contracts import BillingSchedule, CustomerRef, ProjectShell, PurchaseRequisition
from handoff.domain.errors import IntegrationPermanent


def project_pk(code: str) -> str:
    return f"PROJECT#{code}"


class LedgerProjects(LedgerAdapter):
    def create_project(self, shell: ProjectShell, customer: CustomerRef, *, idempotency_key: str) -> ProjectShell:
        """The project code is unique: a conditional put claims it for this handoff."""
        store = self._store

        def build():
            item = {
                "pk": project_pk(shell.code),
                "sk": "PROJECT",
                "type": "project",
                **shell.to_json_dict(),
                "customerId": customer.erp_customer_id,
                "idempotencyKey": idempotency_key,
                "createdAt": store.now(),
            }
            return [store.put_new(item)], shell.to_json_dict()

        def conflict() -> Exception:
            owner = store.get(project_pk(shell.code), "PROJECT") or {}
            return IntegrationPermanent(
                f"{SYSTEM}: project code {shell.code} already exists for another handoff "
                f"(customer {owner.get('customerId')}, created {owner.get('createdAt')})",
                system=SYSTEM,
                detail={"code": shell.code, "customerId": owner.get("customerId")},
            )

        return ProjectShell.model_validate(store.once("create_project", idempotency_key, build, conflict))


class LedgerBilling(LedgerAdapter):
    def create_schedule(
        self, project_code: str, customer: CustomerRef, schedule: BillingSchedule, *, idempotency_key: str
    ) -> str:
        store = self._store
        schedule_id = derived_id("BS", "create_billing_schedule", idempotency_key)

        def build():
            item = {
                "pk": project_pk(project_code),
                "sk": f"BILLING#{schedule_id}",
                "type": "billing_schedule",
                "scheduleId": schedule_id,
                "projectCode": project_code,
                "customerId": customer.erp_customer_id,
                **schedule.to_json_dict(),
                "idempotencyKey": idempotency_key,
                "createdAt": store.now(),
            }
            return [store.put_new(item)], schedule_id

        return store.once(
            "create_billing_schedule", idempotency_key, build, refused(f"schedule {schedule_id} exists")
        )


class LedgerProcurement(LedgerAdapter):
    def raise_requisitions(
        self, project_code: str, requisitions: list[PurchaseRequisition], *, idempotency_key: str
    ) -> list[PurchaseRequisition]:
        store = self._store

        def build():
            raised = [
                req.model_copy(
                    update={
                        "requisition_id": derived_id("PR", "raise_requisitions", idempotency_key, seq),
                        "project_code": project_code,
                    }
                )
                for seq, req in enumerate(requisitions, start=1)
            ]
            now = store.now()
            items = [
                {
                    "pk": project_pk(project_code),
                    "sk": f"REQUISITION#{req.requisition_id}",
                    "type": "requisition",
                    **req.to_json_dict(),
                    "idempotencyKey": idempotency_key,
                    "createdAt": now,
                }
                for req in raised
            ]
            return [store.put_new(i) for i in items], [r.to_json_dict() for r in raised]

        result = store.once(
            "raise_requisitions", idempotency_key, build, refused(f"requisitions for {project_code} exist")
        )
        return [PurchaseRequisition.model_validate(r) for r in result]


class LedgerCrmWriteback(LedgerAdapter):
    """Stands in for the CRM: remembers which project an opportunity became."""

    def project_created(self, opportunity_id: str, project_code: str, *, idempotency_key: str, source: str = "",
                        status: str = "ACTIVATED", launch_packet: str | None = None) -> None:
        store = self._store

        def build():
            item = {
                "pk": f"OPPORTUNITY#{opportunity_id}",
                "sk": "CRM",
                "type": "crm_writeback",
                "opportunityId": opportunity_id,
                "projectCode": project_code,
                "status": status,
                **({"launchPacket": launch_packet} if launch_packet else {}),
                "idempotencyKey": idempotency_key,
                "updatedAt": store.now(),
            }
            # Setting a CRM field is last-writer-wins; the idempotency record stops a stale replay.
            return [store.put(item)], project_code

        store.once("crm_project_created", idempotency_key, build, refused("CRM write-back refused"))
