"""Powertools Logger, Tracer and Metrics, one of each per process, shared by the handlers and the use
cases they call; every record of the logger passes the masking filter (no emails, tax ids or amounts)."""

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer

from handoff import log_masking

logger = Logger()
log_masking.install(logging.getLogger(logger.name))  # no emails, tax ids or amounts in any log line
tracer = Tracer()
metrics = Metrics()
