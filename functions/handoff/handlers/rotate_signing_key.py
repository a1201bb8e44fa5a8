"""The link-signing key's rotation function, invoked by Secrets Manager on the secret's schedule with
one step at a time ({"Step": "createSecret" | "setSecret" | "testSecret" | "finishSecret",
"SecretId": ..., "ClientRequestToken": ...}). It rotates only the secret it is configured with."""

from datetime import timedelta
from typing import Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from handoff.adapters import aws
from handoff.adapters.key_rotation import KeyRotation, RotationRefused
from handoff.observability import logger
from handoff.settings import settings


class RotationStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: Literal["createSecret", "setSecret", "testSecret", "finishSecret"] = Field(alias="Step")
    secret_id: str = Field(alias="SecretId", min_length=1)
    token: str = Field(alias="ClientRequestToken", min_length=32, max_length=64)


def _same_secret(asked: str, configured: str) -> bool:
    # Secrets Manager names the secret by its full ARN; a partial ARN (without the random suffix) is it too.
    return asked == configured or (asked.startswith("arn:") and configured.startswith(asked + "-"))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: LambdaContext) -> None:
    request = parse(event=event, model=RotationStep)
    secret_arn = settings().approval_secret_arn
    if not _same_secret(request.secret_id, secret_arn):
        raise RotationRefused("this function rotates only the approval signing key")
    logger.append_keys(rotation_step=request.step)
    window = timedelta(days=int(settings().previous_key_valid_days))
    KeyRotation(aws.client("secretsmanager"), secret_arn, window).run(request.step, request.token)
    logger.info("rotation step done")
