"""Deploy-time configuration as SSM parameters: the approver directory, the delivery leads'
address, one parameter per playbook file and the systems configuration. Defaults come from the
repo's files (or context); every value is validated here, so a bad one fails `cdk synth` with the
context key named, and the functions read them through Powertools Parameters
(handoff.adapters.configuration), never from files in the bundle."""

import json
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from handoff.adapters import configuration as runtime_config
from handoff.adapters.playbook_files import all_playbooks
from handoff.config import ConfigurationError
from handoff.domain.playbooks import PlaybookError

ROOT = Path(__file__).resolve().parent.parent
STANDARD_LIMIT, ADVANCED_LIMIT = 4096, 8192  # SSM parameter value sizes, in bytes, per tier


class ContextError(ValueError):
    """A context value (cdk.json or -c) that cannot be deployed; the message starts with the key."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"context {key}: {message}")


def context_flag(scope: Construct, key: str, default: bool) -> bool:
    """A boolean from context: true/false as JSON (cdk.json) or as text (-c key=false)."""
    value = scope.node.try_get_context(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in {"true", "false"}:
        raise ContextError(key, f"must be true or false, got {value!r}")
    return text == "true"


def context_json(scope: Construct, key: str, default: Any) -> Any:
    """A list or object from context: as JSON (cdk.json) or as JSON text (-c key='[...]')."""
    value = scope.node.try_get_context(key)
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ContextError(key, f"is not valid JSON: {exc}") from None
    return value


def validate_systems_config(config: Any) -> str:
    """The systemsConfig as the functions will read it, checked as they will build their ports."""
    from pydantic import ValidationError

    from handoff.adapters.registry import ADAPTER_FACTORIES, DEFAULT_ADAPTER, load_config
    from handoff.adapters.rest import RestSystemConfig

    try:
        systems = load_config(config if isinstance(config, dict | str) else json.dumps(config))
    except ValueError as exc:
        raise ContextError("systemsConfig", str(exc)) from None
    for port, settings in systems.items():
        adapter = settings.get("adapter", DEFAULT_ADAPTER)
        if adapter not in ADAPTER_FACTORIES:
            raise ContextError(f"systemsConfig.{port}.adapter",
                               f"unknown adapter {adapter!r}; known: {', '.join(sorted(ADAPTER_FACTORIES))}")
        rest = {k: v for k, v in settings.items() if k != "adapter"}
        if adapter == "ledger" and rest:
            raise ContextError(f"systemsConfig.{port}", f"the ledger adapter takes no settings, got {sorted(rest)}")
        if adapter == "rest":
            try:
                RestSystemConfig.model_validate({"name": port, **rest})
            except ValidationError as exc:
                error = exc.errors(include_url=False)[0]
                raise ContextError(f"systemsConfig.{port}.{'.'.join(map(str, error['loc']))}", error["msg"]) from None
    return json.dumps(systems, separators=(",", ":"), sort_keys=True)


class DeployConfiguration(Construct):
    """The parameters, the functions' environment that names them, and grants to read them."""

    def __init__(self, scope: Construct, construct_id: str, *, systems_config: Any) -> None:
        """`systems_config`: the context's, completed by the stack (the CRM intake's write-back)."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        ctx = self.node.try_get_context
        self.prefix = "/" + str(ctx("parameterPrefix") or stack.stack_name).strip("/")
        self.parameters: dict[str, ssm.StringParameter] = {}

        approvers_file = ROOT / str(ctx("approversFile") or "functions/handoff/config/approvers.yaml")
        approvers = self._read("approversFile", approvers_file)
        try:
            runtime_config.parse_approvers(approvers, str(approvers_file))
        except ConfigurationError as exc:
            raise ContextError("approversFile", str(exc)) from None
        self._parameter("approvers", "Approver directory (YAML): who approves what, and escalations",
                        approvers, "approversFile")

        leads = str(ctx("deliveryLeadsEmail") or "delivery-leads@example.com")
        try:
            runtime_config.parse_address(leads, "deliveryLeadsEmail")
        except ConfigurationError as exc:
            raise ContextError("deliveryLeadsEmail", str(exc).removeprefix("deliveryLeadsEmail: ")) from None
        self._parameter("delivery-leads-email", "Where launch packets are announced", leads, "deliveryLeadsEmail")

        directory = ROOT / str(ctx("playbooksDirectory") or "functions/handoff/playbooks")
        texts = {p.stem: self._read("playbooksDirectory", p) for p in sorted(directory.glob("*.yaml"))}
        if not [s for s in texts if not s.startswith("_")]:
            raise ContextError("playbooksDirectory", f"no playbook (*.yaml) in {directory}")
        try:
            all_playbooks(sources=texts, origin=f"{directory}/")
        except PlaybookError as exc:
            raise ContextError("playbooksDirectory", str(exc)) from None
        for stem, text in texts.items():
            self._parameter(f"playbooks/{stem}", f"Playbook {stem} (YAML)", text, "playbooksDirectory")

        systems = validate_systems_config(systems_config)
        self._parameter("systems-config", "Which adapter serves each system of record (JSON, no secrets)",
                        systems, "systemsConfig")

        self.environment = {
            runtime_config.APPROVERS: self.name("approvers"),
            runtime_config.DELIVERY_LEADS: self.name("delivery-leads-email"),
            runtime_config.PLAYBOOKS: self.name("playbooks"),
            runtime_config.SYSTEMS: self.name("systems-config"),
        }

    def name(self, key: str) -> str:
        return f"{self.prefix}/{key}"

    @staticmethod
    def _read(key: str, path: Path) -> str:
        if not path.is_file():
            raise ContextError(key, f"{path} does not exist")
        return path.read_text(encoding="utf-8")

    def _parameter(self, key: str, description: str, value: str, context_key: str) -> None:
        size = len(value.encode())
        if size > ADVANCED_LIMIT:
            raise ContextError(context_key, f"{self.name(key)} is {size} bytes, over SSM's {ADVANCED_LIMIT}-byte limit")
        logical = "Param" + "".join(part.title().replace("-", "").replace("_", "") for part in key.split("/"))
        self.parameters[key] = ssm.StringParameter(
            self, logical, parameter_name=self.name(key), string_value=value, description=description[:1024],
            # Advanced (8 KB, billed monthly) only for values over the standard tier's 4 KB.
            tier=ssm.ParameterTier.STANDARD if size <= STANDARD_LIMIT else ssm.ParameterTier.ADVANCED,
        )

    def grant(self, function: lambda_.Function, what: str) -> None:
        """`approvers`, `delivery-leads-email`, `systems-config`, or `playbooks` (every file and the path)."""
        if what != "playbooks":
            self.parameters[what].grant_read(function)
            return
        for key, parameter in self.parameters.items():
            if key.startswith("playbooks/"):
                parameter.grant_read(function)
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["ssm:GetParametersByPath"],
            resources=[Stack.of(self).format_arn(service="ssm", resource="parameter",
                                                 resource_name=self.name("playbooks").lstrip("/"))],
        ))
