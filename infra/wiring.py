"""The one source of truth for the wiring: every Lambda, what it runs, what it may touch.
The stack builds from this list; the local runtime reads the stack's synthesized template,
never this list, so both run exactly what `cdk deploy` would deploy."""

from dataclasses import dataclass, field

# Functions that call systems of record over REST wait for them: the connector's worst case with
# its defaults is 3 attempts x (8 s connect + 8 s read) + 2 backoffs of up to 8 s = 64 s, plus an
# OAuth token request (16 s). 30 s would cut a slow but healthy call short; 120 s leaves headroom.
INTEGRATION_TIMEOUT_SECONDS = 120
INTEGRATION = ("ledger:write", "idempotency:write", "systems-secret:read", "config:systems", "config:playbooks")
# API Gateway ends every integration at 29 s; a function behind it must answer (or fail) before.
API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29
API_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class FunctionSpec:
    logical_name: str  # construct id; the ASL refers to ${<logical_name>FunctionArn}
    module: str  # handoff.handlers.<module>.handler
    description: str
    uses: tuple[str, ...] = field(default_factory=tuple)  # grants, see HandoffStack._grant
    in_workflow: bool = True  # invoked by the state machine
    behind_api: bool = False  # invoked synchronously by API Gateway
    timeout_seconds: int = 30
    from_queue: bool = False  # invoked by an SQS event source (the queue's redrive, not async retries)
    # (source, detail-type) of every event it puts on the bus: the bus:put grant allows only these.
    publishes: tuple[tuple[str, str], ...] = field(default_factory=tuple)


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("AcceptEvent", "accept_event", "Validate a closed-won event, quarantine it or register the handoff",
                 ("handoffs:write", "quarantine:write")),
    FunctionSpec("CheckReadiness", "check_readiness", "Readiness gates, contract analysis and approval routing",
                 ("handoffs:write", "mail:send", "exceptions:send", "bedrock:invoke", "config:approvers",
                  "config:playbooks")),
    FunctionSpec("RequestApproval", "request_approval", "Store an approval with its task token and email the approver",
                 ("handoffs:write", "mail:send", "approval-secret:read", "task-tokens:write")),
    FunctionSpec("SyncCustomer", "sync_customer", "Match or create the customer in the customer master",
                 ("handoffs:write", *INTEGRATION), timeout_seconds=INTEGRATION_TIMEOUT_SECONDS),
    FunctionSpec("CreateProject", "create_project", "Create the project shell with its work breakdown structure",
                 ("handoffs:write", *INTEGRATION), timeout_seconds=INTEGRATION_TIMEOUT_SECONDS),
    FunctionSpec("SetupBilling", "setup_billing", "Create the billing schedule from the contract terms",
                 ("handoffs:write", *INTEGRATION), timeout_seconds=INTEGRATION_TIMEOUT_SECONDS),
    FunctionSpec("RequestStaffing", "request_staffing", "Firm up staffing requests, soft ones included",
                 ("handoffs:write", *INTEGRATION), timeout_seconds=INTEGRATION_TIMEOUT_SECONDS),
    FunctionSpec("RaiseRequisitions", "raise_requisitions", "Raise purchase requisitions for subcontractors",
                 ("handoffs:write", *INTEGRATION), timeout_seconds=INTEGRATION_TIMEOUT_SECONDS),
    # Signs the packet link (approval-secret:read) and never reads documents back: the link's route presigns.
    FunctionSpec("AssembleLaunchPacket", "assemble_launch_packet", "Store the launch packet and notify delivery",
                 ("handoffs:write", "packets:write", "mail:send", "config:delivery-leads", "approval-secret:read")),
    FunctionSpec("ActivateHandoff", "activate_handoff", "Mark the handoff activated and write the project back to CRM",
                 ("handoffs:write", "bus:put", *INTEGRATION, "salesforce-key:read", "hubspot-token:read"),
                 timeout_seconds=INTEGRATION_TIMEOUT_SECONDS, publishes=(("closed-won-handoff", "Handoff Activated"),)),
    FunctionSpec("CloseHandoff", "close_handoff", "Record a rejection, timeout or failure and queue the exception",
                 ("handoffs:write", "exceptions:send")),
    FunctionSpec("ApprovalApi", "approval_api", "Approval pages and decisions behind API Gateway",
                 # mail:send: the one-time codes of approvals verified by `code`.
                 ("handoffs:write", "approval-secret:read", "states:callback", "task-tokens:use", "mail:send"),
                 in_workflow=False, behind_api=True,
                 timeout_seconds=API_TIMEOUT_SECONDS),
    # Reads the record and the search indexes (never Scans); a resubmission goes on the bus and
    # AcceptEvent writes it; a retry of a FAILED handoff is a conditional write here (status, who
    # asked, on the timeline) and a new execution (states:start).
    FunctionSpec("HandoffApi", "handoff_api",
                 "Operators' handoff API (IAM): search handoffs, read one, resubmit a blocked one, retry a failed one",
                 ("handoffs:write", "bus:put", "quarantine:write", "states:start"), in_workflow=False, behind_api=True,
                 # Under the handoff's own CRM source.
                 timeout_seconds=API_TIMEOUT_SECONDS, publishes=(("crm.*", "Opportunity Closed Won"),)),
    FunctionSpec("ApprovalSweeper", "approval_sweeper", "Reminders, escalations and expiry of pending approvals",
                 # work-items:read: the work queue's gauges (open items, past SLA) ride on the 15-minute sweep.
                 ("handoffs:write", "mail:send", "approval-secret:read", "states:callback", "task-tokens:use",
                  "work-items:read"),
                 in_workflow=False),
    FunctionSpec("TrackPipeline", "track_pipeline",
                 "Soft staffing requests from pipeline stage changes; released when the deal is lost",
                 ("handoffs:write", "quarantine:write", *INTEGRATION), in_workflow=False,
                 timeout_seconds=INTEGRATION_TIMEOUT_SECONDS),
    FunctionSpec("MailFeedback", "mail_feedback",
                 "SES bounces and complaints: a bounced approval or fix request goes on the handoff and to operations",
                 ("handoffs:write", "exceptions:send"), in_workflow=False),
    FunctionSpec("LaunchPacketApi", "launch_packet_api",
                 "Signed launch-packet links: answers with a freshly presigned, short-lived S3 link",
                 ("handoffs:read", "packets:read", "approval-secret:read"), in_workflow=False, behind_api=True,
                 timeout_seconds=API_TIMEOUT_SECONDS),
    # The exceptions queue's consumer (SQS event source, partial batch failures) and the daily digest.
    FunctionSpec("WorkQueueIntake", "work_queue_intake", "Exceptions queue to work items (owner group, priority, SLA)",
                 ("handoffs:read", "work-items:write"), in_workflow=False, from_queue=True),
    FunctionSpec("WorkQueueDigest", "work_queue_digest", "Daily digest of open work items per owner group by email",
                 ("work-items:write", "mail:send", "dead-letters:read"), in_workflow=False),
    # The console's pages for people (Cognito sign-in, infra/console.py): reads handoffs, writes approvals
    # decisions and work items, resubmits through the bus, reads dead-letter queues for the work queue.
    # task-tokens:use: a signed-in approver's decision resumes the workflow ("signin" verification).
    # dead-letters:redrive, quarantine:requeue: its recovery page (platform group only) does what the
    # recovery API does, with the same grants (infra/recovery.py).
    FunctionSpec("Console", "console",
                 "Operations console: handoffs, the work queue, my approvals and recovery (Cognito)",
                 ("handoffs:write", "work-items:write", "bus:put", "states:callback", "states:start", "dead-letters:read",
                  "task-tokens:use", "dead-letters:redrive", "quarantine:requeue"),
                 in_workflow=False, behind_api=True, timeout_seconds=API_TIMEOUT_SECONDS,
                 # Resubmissions, as the operators' API; requeued quarantined events, as the recovery API.
                 publishes=(("crm.*", "Opportunity Closed Won"), ("crm.*", "Opportunity Stage Changed"))),
    # Fed by the handoff table's stream (infra/analytics.py), not by the workflow or the bus.
    FunctionSpec("RecordFacts", "record_facts", "Facts from the handoff table's stream, to Firehose and S3",
                 ("facts:put",), in_workflow=False),
    # CRM intake (infra/intake.py): Salesforce Event Relay events and HubSpot webhooks become canonical events.
    FunctionSpec("SalesforceIntake", "salesforce_intake",
                 "Salesforce Event Relay events: re-read the opportunity over REST and publish the canonical event",
                 ("bus:put", "salesforce-key:read"), in_workflow=False, timeout_seconds=INTEGRATION_TIMEOUT_SECONDS,
                 publishes=(("crm.salesforce", "Opportunity Closed Won"), ("crm.salesforce", "Opportunity Stage Changed"))),
    FunctionSpec("HubSpotWebhook", "hubspot_webhook", "HubSpot webhook: verify the signature and queue the batch",
                 ("hubspot-app-secret:read", "hubspot-queue:send"), in_workflow=False, behind_api=True,
                 timeout_seconds=10),
    FunctionSpec("HubSpotIntake", "hubspot_intake",
                 "HubSpot webhook batches: re-read the deals over the CRM v3 API and publish the canonical events",
                 ("bus:put", "hubspot-token:read"), in_workflow=False, from_queue=True,
                 timeout_seconds=INTEGRATION_TIMEOUT_SECONDS,
                 publishes=(("crm.hubspot", "Opportunity Closed Won"), ("crm.hubspot", "Opportunity Stage Changed"))),
    # Requeues quarantined events on the bus, redrives dead-letter queues (a rule target's dead letter
    # may restart the workflow); its queue, function and S3 grants and routes are in infra/recovery.py.
    FunctionSpec("RecoveryApi", "recovery_api",
                 "Operators' recovery API (IAM): redrive dead-letter queues, requeue quarantined events",
                 ("bus:put", "states:start", "work-items:write", "dead-letters:redrive", "quarantine:requeue"),
                 in_workflow=False, behind_api=True, timeout_seconds=API_TIMEOUT_SECONDS,
                 publishes=(("crm.*", "Opportunity Closed Won"), ("crm.*", "Opportunity Stage Changed"))),
    # Invoked by Secrets Manager on the signing key's rotation schedule (infra/key_rotation.py).
    FunctionSpec("RotateSigningKey", "rotate_signing_key",
                 "Rotate the link-signing key: createSecret, setSecret, testSecret, finishSecret",
                 ("approval-secret:rotate",), in_workflow=False),
)
