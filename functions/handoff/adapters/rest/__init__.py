"""Systems of record reached over REST: configuration, the HTTP client, and every port over it."""

from handoff.adapters.rest.client import RestClient, retry_after_seconds
from handoff.adapters.rest.config import DEFAULT_PATHS, RestSystemConfig
from handoff.adapters.rest.systems_of_record import (
    REST_ADAPTERS,
    RestBilling,
    RestCrmWriteback,
    RestCustomerMaster,
    RestProcurement,
    RestProjects,
    RestStaffing,
)

__all__ = [
    "DEFAULT_PATHS",
    "REST_ADAPTERS",
    "RestBilling",
    "RestClient",
    "RestCrmWriteback",
    "RestCustomerMaster",
    "RestProcurement",
    "RestProjects",
    "RestStaffing",
    "RestSystemConfig",
    "retry_after_seconds",
]
