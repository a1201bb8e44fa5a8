"""The embedded runtime: moto provisioned from the stack's own template, handlers in-process,
bus events delivered to the state machine, the approval API on 127.0.0.1."""

import functools
import json
import os
import re
import shutil
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.moto_bridge import GAPS_ENVIRONMENT, FaultPlan, MotoBridge, parse_trees_kept
from local.outbox import Email, Outbox
from local.provision import ACCOUNT, REGION, Provisioned, Provisioner
from local.template import ROOT, load_template

if TYPE_CHECKING:
    import boto3

SETTLED = {"ACTIVATED", "BLOCKED", "REJECTED", "FAILED"}


def _fake_credentials() -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "MOTO_ALLOW_NONEXISTENT_REGION": "true",
    }.items():
        os.environ[key] = value
    os.environ.pop("AWS_PROFILE", None)


@functools.cache
def _session() -> "boto3.Session":
    """One session per process, for every runtime's own clients: a new one loads the service models
    and endpoints again (about 0.4 s of each start); the clients themselves stay per runtime."""
    import boto3

    return boto3.Session(region_name=REGION)


class _FormReader(HTMLParser):
    """The page's first form: its action, hidden fields and the names of its other inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.inputs: set[str] = set()
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action") or ""
        if tag == "input" and values.get("name") and not self._done:
            if values.get("type") == "hidden":
                self.fields[values["name"]] = values.get("value") or ""
            else:
                self.inputs.add(values["name"])

    def handle_endtag(self, tag: str) -> None:
        self._done = self._done or tag == "form"


class EmbeddedRuntime:
    def __init__(self, workdir: Path | None = None, *, time_scale: float = 0.001, quiet_seconds: float = 0.1,
                 environment: dict[str, str] | None = None, faults: FaultPlan | None = None,
                 concurrency: int | None = 8):
        """`environment` overrides variables of every function, as a deployment's context would
        (e.g. SYSTEMS_CONFIG pointing the ports at a REST system); it is one value per name for
        the whole stack, like the template's. `faults`: AWS errors to inject (local/faults.py);
        `runtime.faults` is the plan in use, empty by default. `concurrency`: Step Functions'
        Lambda tasks running at once (the rest queue; None: no limit), so that the approval API and
        the runtime's own calls keep a share of the GIL under a burst."""
        self.workdir = workdir or ROOT / ".local" / "run"
        self.time_scale = time_scale
        self.quiet_seconds = quiet_seconds
        self.environment = dict(environment or {})
        self.faults = faults if faults is not None else FaultPlan()
        self.concurrency = concurrency
        self._mock: Any = None
        self.bridge: MotoBridge | None = None
        self._decided: set[str] = set()  # approval links decide_all has posted
        self._history_lengths: dict[str, int] = {}  # events seen per running execution (progress)
        self._clients: dict[str, Any] = {}
        self._previous_backoff_sleep: Any = None

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "EmbeddedRuntime":
        from moto import mock_aws

        from local.http_api import LocalApi
        from local.lambdas import InProcessLambdas

        _fake_credentials()
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        self._mock = mock_aws(config={"lambda": {"use_docker": False},
                                      "stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self.session = _session()
        template = load_template()
        from local.moto_bridge import partner_event_bus_names

        self._undo_bus_names = partner_event_bus_names()
        self.api = LocalApi([], "", self._invoke)
        with parse_trees_kept():
            self.resources: Provisioned = Provisioner(template, api_base_url=self.api.base_url,
                                                      session=self.session).provision()
        self.api.set_routes(self.resources.routes, self.resources.stage_name)
        self.lambdas = InProcessLambdas(self.resources.functions,
                                        extra_environment={"POWERTOOLS_TRACE_DISABLED": "true",
                                                           "POWERTOOLS_DEV": "false", **GAPS_ENVIRONMENT,
                                                           **self.environment})
        self.bridge = MotoBridge(self.lambdas, time_scale=self.time_scale, start_execution=self._start_execution,
                                 dead_letter=self._dead_letter,
                                 function_dead_letters={f.name: f.dead_letter_arn for f in self.resources.functions.values()
                                                        if f.dead_letter_arn},
                                 faults=self.faults, timeout_of=self.lambdas.timeout_of,
                                 concurrency=self.concurrency)
        self.bridge.install()
        from handoff.adapters.system_ports import use_backoff_sleep

        # The REST connector's retry waits are scaled like Step Functions' Retry (and fresh adapters
        # are built: no credentials cached from another runtime in this process).
        self._previous_backoff_sleep = use_backoff_sleep(self.bridge.sleep)
        from handoff.adapters import configuration, signing_keys

        configuration.forget()  # parameters cached from another runtime in this process
        signing_keys.forget()  # so are keys, and the client that read them
        self.api.start()
        from local.queue_sources import QueuePoller

        self.queue_poller = QueuePoller(self.resources.queue_sources, self.client("sqs"), self._invoke,
                                        self.bridge.activity).start()
        self.outbox = Outbox(self.workdir / "outbox")
        return self

    def close(self) -> None:
        if getattr(self, "queue_poller", None) is not None:
            self.queue_poller.stop()
        if self._previous_backoff_sleep is not None:
            from handoff.adapters.system_ports import use_backoff_sleep

            use_backoff_sleep(self._previous_backoff_sleep)
            self._previous_backoff_sleep = None
        if self.bridge:
            self.bridge.uninstall()
        try:
            self.api.stop()
        except Exception:
            pass
        if self._mock:
            self._mock.stop()
        if getattr(self, "_undo_bus_names", None) is not None:
            self._undo_bus_names()
            self._undo_bus_names = None

    def __enter__(self) -> "EmbeddedRuntime":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- plumbing ---------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """One client per service for the runtime's life (building one costs milliseconds, and the
        waits ask for one on every look)."""
        client = self._clients.get(service)
        if client is None:
            client = self._clients.setdefault(service, self.session.client(service, region_name=REGION))
        return client

    def _invoke(self, function_name: str, event: Any) -> tuple[Any, str | None]:
        assert self.bridge is not None
        with self.bridge.activity:
            return self.lambdas(function_name, event)

    def _start_execution(self, state_machine_arn: str, name: str, payload: str) -> None:
        self.client("stepfunctions").start_execution(stateMachineArn=state_machine_arn, name=name, input=payload)

    def _dead_letter(self, queue_arn: str, event: dict, error: str, attributes: dict[str, str] | None = None) -> None:
        url = self.client("sqs").get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        self.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageAttributes={
            name: {"DataType": "String", "StringValue": value[:256]}
            for name, value in {"ERROR_MESSAGE": error, **(attributes or {})}.items()})

    def set_parameter(self, name: str, value: str) -> None:
        """Change deploy-time configuration as an operator would (aws ssm put-parameter); the
        functions see it at once, as they would once their cache's max age has passed."""
        from handoff.adapters import configuration

        self.client("ssm").put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
        configuration.forget()

    def physical(self, logical_prefix: str, cfn_type: str) -> str:
        matches = [lid for lid in self.resources.by_type(cfn_type) if lid.startswith(logical_prefix)]
        if len(matches) != 1:
            raise LookupError(f"expected one {cfn_type} named {logical_prefix}*, found {matches}")
        return self.resources.physical[matches[0]]

    def env(self, name: str) -> str:
        """A value of the functions' environment (one meaning per name across the stack)."""
        if name in self.environment:
            return self.environment[name]
        return next(f.environment[name] for f in self.resources.functions.values() if name in f.environment)

    # --- what an operator does ----------------------------------------------------------------------
    def publish(self, events: list[dict]) -> list[dict]:
        bus = self.env("EVENT_BUS_NAME")
        entries = [{
            "Source": e.get("source", ""), "DetailType": e.get("detail-type", ""),
            "Detail": json.dumps(e.get("detail", {})), "EventBusName": bus,
        } for e in events]
        results = []
        for i in range(0, len(entries), 10):
            results += self.client("events").put_events(Entries=entries[i:i + 10])["Entries"]
        return results

    def executions(self, status: str | None = None) -> list[dict]:
        """Every execution of the handoff workflow (all pages), or those with `status`."""
        sfn = self.client("stepfunctions")
        machine = self.physical("HandoffWorkflow", "AWS::StepFunctions::StateMachine")
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine,
                                                              **({"statusFilter": status} if status else {}))
        return [e for page in pages for e in page["executions"]]

    def wait_settled(self, timeout: float = 60.0) -> None:
        """Until every handoff stops moving: finished, blocked, or paused on an approval. The wait
        follows progress, however long the whole takes: it gives up (TimeoutError) only when
        nothing has moved for `timeout` seconds: no invocation, delivery, retry or wait started or
        finished, none in flight (each is bounded: function timeouts are enforced), no execution
        event."""
        assert self.bridge is not None
        activity = self.bridge.activity
        seen, moved_at = (activity.changes, -1), time.monotonic()
        while True:
            if activity.wait_quiet(self.quiet_seconds, time.monotonic() + min(timeout, 1.0)):
                running = self.executions("RUNNING")
                paused = [self._paused_on_approval(e) for e in running]
                if all(paused) and self.queue_poller.drained():
                    return
                # Something runs without a Lambda call in flight (between states, or a message on
                # its way to a queue's consumer): progress is also the execution events.
                now = (activity.changes, sum(self._history_lengths.get(e["executionArn"], 0) for e in running))
            else:
                now = (activity.changes, seen[1])
            if now != seen or activity.in_flight:
                seen, moved_at = now, time.monotonic()
            elif time.monotonic() - moved_at >= timeout:
                raise TimeoutError(f"handoffs made no progress for {timeout} s")
            time.sleep(0.02)

    def history(self, execution_arn: str) -> list[dict]:
        """An execution's whole history, oldest first."""
        sfn = self.client("stepfunctions")
        events: list[dict] = []
        token = None
        while True:
            page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                             **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def _paused_on_approval(self, execution: dict) -> bool:
        """Every approval of the latest Map is handed out (its task token is waiting) and some are
        still open. The handoff's status alone is not enough: it reads AWAITING_APPROVAL from the
        readiness check on, before the approvals are requested and mailed."""
        events = self.history(execution["executionArn"])
        self._history_lengths[execution["executionArn"]] = len(events)
        starts = [i for i, e in enumerate(events) if e["type"] == "MapStateStarted"]
        if not starts:
            return False
        expected = events[starts[-1]].get("mapStateStartedEventDetails", {}).get("length", 0)
        since = events[starts[-1]:]

        def waits(e: dict, key: str) -> bool:
            return "waitForTaskToken" in e.get(key, {}).get("resource", "")

        # A token is still waited on when nothing followed its TaskSubmitted in that iteration (each
        # event names the one before it in its iteration). Counted this way, not as submissions less
        # endings: an attempt that failed before handing its token out (a throttled invoke) ends
        # without a submission, and its retry hands out another.
        answered = {e.get("previousEventId") for e in since
                    if e["type"] in ("TaskSucceeded", "TaskFailed", "TaskTimedOut")}
        waiting = sum(1 for e in since if e["type"] == "TaskSubmitted" and waits(e, "taskSubmittedEventDetails")
                      and e["id"] not in answered)
        started = sum(1 for e in since if e["type"] == "MapIterationStarted")
        ended = sum(1 for e in since if e["type"] in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"))
        # Paused: every iteration started, each one still running waits on its token, and one does.
        return expected > 0 and started == expected and waiting > 0 and waiting == started - ended

    def store(self) -> Any:
        from handoff.adapters.handoff_store import HandoffStore

        table = self.session.resource("dynamodb", region_name=REGION).Table(self.env("HANDOFF_TABLE"))
        return HandoffStore(table)

    def records(self) -> list[Any]:
        store = self.store()
        return [store.record(h) for h in store.handoff_ids()]

    def emails(self) -> list[Email]:
        from local.moto_bridge import sent_raw_messages

        return self.outbox.collect(sent_raw_messages(ACCOUNT, REGION))

    def quarantined(self) -> list[dict]:
        from handoff.adapters.documents import Documents

        return Documents(self.client("s3"), self.env("DOCUMENTS_BUCKET")).quarantined()

    def queue_messages(self, logical_prefix: str) -> list[dict]:
        url = self.physical(logical_prefix, "AWS::SQS::Queue")
        sqs = self.client("sqs")
        messages = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                        MessageAttributeNames=["All"]).get("Messages", [])
            new = [m for m in batch if m["MessageId"] not in {x["MessageId"] for x in messages}]
            if not new:
                return messages
            messages += new

    # --- the operators' handoff API, over HTTP (IAM is not checked locally) ---------------------------
    OPERATOR_ARN = f"arn:aws:iam::{ACCOUNT}:user/local-operator"

    def api_call(self, method: str, path: str, body: dict | None = None, *,
                 caller: str | None = None) -> tuple[int, dict]:
        from local.http_api import CALLER_HEADER

        url = f"{self.api.base_url}/{self.resources.stage_name}{path}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json", "Accept": "application/json",
                                                  CALLER_HEADER: caller or self.OPERATOR_ARN})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    _api_call = api_call  # its name before it was public, for callers written against it

    def search(self, **params: object) -> tuple[int, dict]:
        """GET /handoffs?...: (HTTP status, the page or the error). `from_` is sent as `from`; a
        datetime as ISO 8601; a list as the parameter repeated."""
        pairs = []
        for name, value in params.items():
            for one in value if isinstance(value, list) else [value]:
                text = one.isoformat() if isinstance(one, datetime) else str(one)
                pairs.append((name.removesuffix("_"), text))
        query = urllib.parse.urlencode(pairs)
        return self.api_call("GET", "/handoffs" + (f"?{query}" if query else ""))

    def handoff(self, handoff_id: str) -> tuple[int, dict]:
        """GET /handoffs/{id}: (HTTP status, the handoff record or the error)."""
        return self.api_call("GET", f"/handoffs/{urllib.parse.quote(handoff_id, safe='')}")

    def resubmit(self, handoff_id: str, event: dict | None = None, *,
                 caller: str | None = None) -> tuple[int, dict]:
        """POST /handoffs/{id}/resubmit with a corrected event, or none to re-validate the stored deal,
        as the IAM identity `caller` (what SigV4 would establish on AWS)."""
        return self.api_call("POST", f"/handoffs/{urllib.parse.quote(handoff_id, safe='')}/resubmit", event,
                             caller=caller)

    def retry(self, handoff_id: str, *, caller: str | None = None) -> tuple[int, dict]:
        """POST /handoffs/{id}/retry as `caller` (an IAM ARN; the local operator by default)."""
        return self.api_call("POST", f"/handoffs/{urllib.parse.quote(handoff_id, safe='')}/retry", caller=caller)

    def requeue_quarantine(self, *, dry_run: bool = False, key: str | None = None,
                           event: dict | None = None) -> tuple[int, dict]:
        """POST /quarantine/requeue: re-ingest quarantined events (one key, with a corrected event)."""
        body: dict = {"dryRun": dry_run}
        if key is not None:
            body["key"] = key
        if event is not None:
            body["event"] = event
        return self.api_call("POST", "/quarantine/requeue", body)

    def dead_letters(self) -> tuple[int, dict]:
        """GET /dead-letters: every dead-letter queue with its source and the messages waiting."""
        return self.api_call("GET", "/dead-letters")

    def redrive(self, queue: str, *, dry_run: bool = False) -> tuple[int, dict]:
        """POST /dead-letters/{queue}/redrive (a dry run says what would move and changes nothing)."""
        return self.api_call("POST", f"/dead-letters/{urllib.parse.quote(queue, safe='')}/redrive",
                             {"dryRun": dry_run})

    # --- approvals as a person does them -----------------------------------------------------------
    def approval_links(self, *, since: int = 0) -> list[tuple[Email, str]]:
        marker = f"/{self.resources.stage_name}/approvals/"
        return [(mail, link) for mail in self.emails()[since:] for link in mail.links() if marker in link]

    def decide(self, link: str, decision: str, comment: str = "") -> tuple[int, str]:
        """GET the page (which decides nothing), then POST the form, as a browser would. When the
        approval is verified by a one-time code, the approver reads it from the email sent to them
        and enters it on the page that asks for it."""
        with urllib.request.urlopen(link, timeout=10) as page:
            form = _FormReader()
            form.feed(page.read().decode())
        sent = len(self.emails())
        status, answer = self._post_form(link, form, {"decision": decision, "comment": comment})
        code_form = _FormReader()
        code_form.feed(answer)
        if status != 200 or "code" not in code_form.inputs:
            return status, answer
        codes = [code for code in map(self.decision_code, self.emails()[sent:]) if code]
        if not codes:
            raise RuntimeError(f"the page asks for a code but no code email arrived: {link.split('?')[0]}")
        return self._post_form(link, code_form, {"code": codes[-1]})

    @staticmethod
    def decision_code(mail: Email) -> str | None:
        """The one-time code in an approval's code email (None for any other email)."""
        found = re.search(r"^ {4}(\d{3} ?\d{3})$", mail.text(), re.MULTILINE)
        return found.group(1).replace(" ", "") if found and "confirmation code" in mail.subject else None

    @staticmethod
    def _post_form(link: str, form: _FormReader, values: dict[str, str]) -> tuple[int, str]:
        action = urllib.parse.urljoin(link, form.action or link)
        body = urllib.parse.urlencode({**form.fields, **values}).encode()
        request = urllib.request.Request(action, data=body, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded",
                                                  "User-Agent": "local-runtime/1.0"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def decide_all(self, decision: str, *, comment: str = "", timeout: float = 60.0) -> int:
        """Decide every approval link emailed so far (and those that follow from them) until settled;
        returns how many this call decided. Links an earlier call decided are not posted again."""
        decided = 0
        while True:
            self.wait_settled(timeout)
            pending = [(m, link) for m, link in self.approval_links() if link not in self._decided]
            if not pending:
                return decided
            for _mail, link in pending:
                self.decide(link, decision, comment or f"{decision}d by the local runtime")
                self._decided.add(link)
                decided += 1

    def sweep_approvals(self, at: datetime) -> None:
        """Fire the approval sweep schedule as EventBridge would at time `at`."""
        self.fire_schedule("ApprovalSweepSchedule", at)

    def send_digests(self, at: datetime) -> Any:
        """Fire the work queue's daily digest schedule as EventBridge would at time `at`; returns
        the digest's result ({"sent": {group: items}, ...}) or raises its error."""
        (result, error), = self.fire_schedule("WorkQueueDigestSchedule", at)
        if error:
            raise RuntimeError(f"the digest failed: {result}")
        return result

    def work_items(self) -> Any:
        """The work queue's store (handoff.adapters.work_items_store.WorkItemStore)."""
        from handoff.adapters.work_items_store import WorkItemStore

        return WorkItemStore(self.session.resource("dynamodb", region_name=REGION).Table(self.env("WORK_ITEMS_TABLE")))

    def fire_schedule(self, logical_prefix: str, at: datetime) -> list[tuple[Any, str | None]]:
        """Invoke the targets of the schedule rules named `logical_prefix*` with EventBridge's
        Scheduled Event for time `at`; returns each target's (result, error type)."""
        results = []
        for targets in [t for rule, t in self.resources.schedules.items() if rule.startswith(logical_prefix)]:
            for target in targets:
                function = target["Arn"].split(":")[6]
                results.append(self._invoke(function, {
                    "version": "0", "id": f"schedule-{at.timestamp()}", "detail-type": "Scheduled Event",
                    "source": "aws.events", "account": ACCOUNT, "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "region": REGION, "resources": [], "detail": {},
                }))
        return results
