"""The CDK app: one stack, wired from infra/wiring.py."""
