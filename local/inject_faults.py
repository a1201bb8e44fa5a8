"""`python -m local run FILE... --inject-faults RATE [--seed N]`: the same run, with that share of
calls failing the way the services fail transiently, to show that the retry budgets hold and that
retried steps never create anything twice.

One mechanism per side of the wire, both seeded:
- AWS calls: the runtime's FaultPlan (local/faults.py), with AWS's own error codes and shapes:
  Lambda `TooManyRequestsException`, `ServiceException` (API errors) and `Sandbox.Timedout` (the
  function ran, its answer is lost), DynamoDB `ThrottlingException` (any operation) and
  `TransactionConflict` (transactions: half each), SES `Throttling`.
- Systems of record: every port is pointed at the fake ERP/PSA/CRM over HTTP (local/fake_erp.py,
  as a deployment's `systemsConfig` points them at REST systems), which fails that share of
  requests with 429 and Retry-After, 500, 503, a timeout after the work, or a malformed body.

Only the product's own calls meet faults: the runtime's bookkeeping (publishing the events,
watching executions, reading the records at the end) uses services the plan leaves alone, or runs
after the faults are switched off. An approver whose click meets an error clicks again, as a person
would (the approval API answers 5xx; nothing was decided).
"""

import json
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

from local.fake_erp import FakeErp
from local.faults import FaultPlan
from local.runtime import EmbeddedRuntime

API_KEY = "local-fault-injection"
FLAG = "--inject-faults"
CLICKS = 10  # an approver's patience: clicks on one link that met an error before giving up
SETTLE_SECONDS = 600.0  # waits follow activity; this only bounds a run that never settles

# (service, operation, error) per AWS service: each service's share of failing calls is split
# evenly between its kinds. Function errors (Sandbox.Timedout) are drawn after the Invoke call
# succeeded, so they get the rest of Lambda's share.
AWS_API_FAULTS: list[tuple[str, str, str]] = [
    ("lambda", "Invoke", "TooManyRequestsException"),
    ("lambda", "Invoke", "ServiceException"),
    ("dynamodb", "TransactWriteItems", "TransactionConflict"),
    ("dynamodb", "TransactWriteItems", "ThrottlingException"),
    ("ses", "*", "Throttling"),
]
# Every other DynamoDB operation is throttled at the whole rate.
OTHER_DYNAMODB = ("dynamodb", "!TransactWriteItems", "ThrottlingException")
FUNCTION_FAULTS: list[tuple[str, str, str]] = [("lambda", "Invoke", "Sandbox.Timedout")]


class RateRefused(ValueError):
    pass


def parse_rate(text: str) -> float:
    """RATE of --inject-faults: a number from 0 to 1."""
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0 <= rate <= 1:  # NaN fails too
        raise RateRefused(f"{FLAG}: RATE must be a number from 0 to 1, got {text!r}")
    return rate


def plan_for(rate: float, seed: int) -> FaultPlan:
    """A FaultPlan failing `rate` of the product's Lambda, DynamoDB and SES calls."""
    plan = FaultPlan(seed=seed)
    if rate == 0:
        return plan
    by_service: dict[str, list[tuple[str, str, str]]] = {}
    for fault in AWS_API_FAULTS:
        by_service.setdefault(fault[0], []).append(fault)
    plan.inject(*OTHER_DYNAMODB, rate=rate)
    lambda_kinds = len(by_service["lambda"]) + len(FUNCTION_FAULTS)
    for service, faults in by_service.items():
        kinds = lambda_kinds if service == "lambda" else len(faults)
        share = rate / kinds
        # The plan tries faults in order, each with its own probability: the k-th kind's
        # probability is conditional on the earlier ones not having fired, so each kind gets `share`.
        for k, (svc, operation, error) in enumerate(faults):
            plan.inject(svc, operation, error, rate=min(1.0, share / (1 - k * share)))
    api_share = rate * len(by_service["lambda"]) / lambda_kinds
    if api_share < 1:
        function_rate = (rate - api_share) / (1 - api_share)  # of the invocations that got through
        for service, operation, error in FUNCTION_FAULTS:
            plan.inject(service, operation, error, rate=min(1.0, function_rate))
    return plan


class FaultInjection:
    """One run with faults: `runtime()` starts the fake ERP and an EmbeddedRuntime with the plan;
    after the run `erp.state` holds what the systems of record got, `emails` what was mailed."""

    def __init__(self, rate: float, seed: int = 0, workdir: Path | None = None):
        self.rate, self.seed, self.workdir = rate, seed, workdir
        self.plan = plan_for(rate, seed)
        self.erp = FakeErp(api_key=API_KEY)
        self.emails: list[Any] = []
        self.clicks_repeated = 0
        self.settle_seconds = SETTLE_SECONDS
        self._started = 0.0
        self.wall_seconds = 0.0

    def runtime(self) -> "_Runtime":
        from handoff.adapters.registry import PORT_NAMES

        self.erp.start()
        if self.rate:
            self.erp.chaos(self.rate, seed=self.seed)
        system = {"adapter": "rest", "name": "Fake ERP", "base_url": self.erp.base_url,
                  "auth": {"type": "api_key", "secret_key": "erp"}, "timeout_seconds": 0.5}
        environment = {"SYSTEMS_CONFIG": json.dumps(dict.fromkeys(PORT_NAMES, system))}
        self._started = time.monotonic()
        return _Runtime(self, self.workdir, environment=environment, faults=self.plan)

    def decide_all(self, runtime: EmbeddedRuntime, decision: str) -> int:
        """Like EmbeddedRuntime.decide_all, but a click that met an error (5xx, or the page failed
        to load) is made again, up to CLICKS times."""
        decided = 0
        while True:
            runtime.wait_settled(self.settle_seconds)
            pending = [link for _mail, link in runtime.approval_links() if link not in runtime._decided]
            if not pending:
                return decided
            for link in pending:
                for _click in range(CLICKS):
                    try:
                        status, _body = runtime.decide(link, decision, f"{decision}d by the local runtime")
                    except OSError as error:  # HTTPError on the page's GET, or no answer at all
                        status = getattr(error, "code", None) or 599
                    if status < 500:
                        break
                    self.clicks_repeated += 1
                    runtime.wait_settled(self.settle_seconds)
                runtime._decided.add(link)
                decided += 1

    def stop_faults(self) -> None:
        """No more faults: what follows is the runtime reading the outcome."""
        self.plan.clear()
        self.erp.chaos(0)

    def injected(self) -> Counter[str]:
        """Faults injected by kind: `lambda TooManyRequestsException`, `erp 503`, ..."""
        kinds: Counter[str] = Counter(f"{f.service} {f.error}" for f in self.plan.fired)
        names = {"throttle": "429", "error": "500", "unavailable": "503", "timeout": "timeout",
                 "malformed": "malformed body"}
        for (_path, kind), count in self.erp.injected.items():
            if kind in names:
                kinds[f"erp {names[kind]}"] += count
        return kinds

    def summary(self) -> str:
        kinds = self.injected()
        listed = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        return (f"faults injected at rate {self.rate:g} (seed {self.seed}): {sum(kinds.values())}"
                + (f" ({listed})" if listed else "") + "\n")


class _Runtime(EmbeddedRuntime):
    """The EmbeddedRuntime of a fault run: the stack's credentials secret holds the fake ERP's
    key; closing it keeps what was mailed and stops the fake."""

    def __init__(self, injection: FaultInjection, workdir: Path | None, **kwargs: Any):
        super().__init__(workdir, **kwargs)
        self.injection = injection

    def start(self) -> "_Runtime":
        super().start()
        self.client("secretsmanager").put_secret_value(
            SecretId=self.env("SYSTEMS_SECRET_ARN"), SecretString=json.dumps({"erp": {"api_key": API_KEY}}))
        return self

    def close(self) -> None:
        try:
            self.injection.stop_faults()
            if self.bridge is not None:
                self.injection.emails = self.emails()
            self.injection.wall_seconds = time.monotonic() - self.injection._started
        finally:
            super().close()
            self.injection.erp.stop()
