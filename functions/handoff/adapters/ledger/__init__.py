"""The built-in lightweight system of record: every port on one DynamoDB table (pk/sk).

Item layout (pk / sk -> what):
  CUSTOMER#<erpCustomerId> / PROFILE               customer master record
  TAXID#<normalised tax id> / TAXID                uniqueness: points at one customer
  NAME#<country>#<normalised name> / NAME          uniqueness: points at one customer
  PROJECT#<code> / PROJECT                         project shell (code is unique)
  PROJECT#<code> / BILLING#<scheduleId>            billing schedule
  PROJECT#<code> / REQUISITION#<requisitionId>     purchase requisition
  OPPORTUNITY#<id> / STAFFING#<requestId>          staffing request (SOFT, FIRM, RELEASED)
  OPPORTUNITY#<id> / CRM                           project code written back to the CRM
  IDEMPOTENCY#<idempotency key> / <operation>      first result of a call, replayed on repeats
"""

from handoff.adapters.ledger.customers import LedgerCustomerMaster
from handoff.adapters.ledger.inspector import LedgerInspector
from handoff.adapters.ledger.names import name_key, tax_key
from handoff.adapters.ledger.projects import LedgerBilling, LedgerCrmWriteback, LedgerProcurement, LedgerProjects
from handoff.adapters.ledger.staffing import LedgerStaffing
from handoff.adapters.ledger.store import LedgerStore

# Port name -> adapter class; the registry picks from here, never by if-chains.
LEDGER_ADAPTERS = {
    "customer_master": LedgerCustomerMaster,
    "projects": LedgerProjects,
    "billing": LedgerBilling,
    "staffing": LedgerStaffing,
    "procurement": LedgerProcurement,
    "crm": LedgerCrmWriteback,
}

__all__ = [
    "LEDGER_ADAPTERS",
    "LedgerBilling",
    "LedgerCrmWriteback",
    "LedgerCustomerMaster",
    "LedgerInspector",
    "LedgerProcurement",
    "LedgerProjects",
    "LedgerStaffing",
    "LedgerStore",
    "name_key",
    "tax_key",
]
