"""The secret cache (Powertools' SecretsProvider underneath): Secrets Manager's errors come out as named
integration errors, a failure is not cached, and an invalidated secret is read again."""

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from handoff.adapters.credentials import SecretCache
from handoff.domain.errors import IntegrationPermanent, IntegrationTransient


class Answers:
    """GetSecretValue answering from a list: an exception is raised, a dict returned."""

    def __init__(self, *answers: object):
        self.answers = list(answers)
        self.reads = 0

    def get_secret_value(self, SecretId: str) -> dict:
        self.reads += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]


def aws_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "GetSecretValue")


def test_throttling_is_transient_and_the_next_read_succeeds() -> None:
    client = Answers(aws_error("ThrottlingException"), {"SecretString": json.dumps({"api_key": "k"})})
    cache = SecretCache(client)

    with pytest.raises(IntegrationTransient, match="secret erp: Secrets Manager ThrottlingException"):
        cache.get("erp")
    assert cache.get("erp") == {"api_key": "k"}
    assert cache.get("erp") == {"api_key": "k"} and client.reads == 2  # the value is cached, the failure was not


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (aws_error("InternalServiceError"), IntegrationTransient, "Secrets Manager InternalServiceError"),
        (aws_error("AccessDeniedException"), IntegrationPermanent, "Secrets Manager AccessDeniedException"),
        (EndpointConnectionError(endpoint_url="https://secretsmanager"), IntegrationTransient, "EndpointConnectionError"),
        ({"SecretBinary": b"{}"}, IntegrationPermanent, "has no SecretString"),
        ({"Name": "erp"}, IntegrationPermanent, "has no SecretString"),
        ({"SecretString": "[1, 2]"}, IntegrationPermanent, "is not a JSON object"),
    ],
)
def test_each_failure_has_its_named_error(answer: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        SecretCache(Answers(answer)).get("erp")


def test_an_invalidated_secret_is_read_again_once() -> None:
    client = Answers({"SecretString": json.dumps({"api_key": "old"})}, {"SecretString": json.dumps({"api_key": "new"})})
    cache = SecretCache(client)

    assert cache.get("erp") == {"api_key": "old"}
    cache.invalidate("erp")
    assert cache.get("erp") == {"api_key": "new"}
    assert cache.get("erp") == {"api_key": "new"} and client.reads == 2


def test_a_secret_that_is_not_a_json_object_is_read_again_once_fixed() -> None:
    client = Answers({"SecretString": "not json"}, {"SecretString": json.dumps({"api_key": "k"})})
    cache = SecretCache(client)

    with pytest.raises(IntegrationPermanent, match="not a JSON object"):
        cache.get("erp")
    assert cache.get("erp") == {"api_key": "k"} and client.reads == 2
