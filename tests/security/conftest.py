"""The security suite: one test per attack of the hostile review (issue 13), named for the attack.
Template checks reuse the infra suite's one synthesized template."""

from tests.infra.conftest import synthesized, template  # noqa: F401  (fixtures)
