"""The embedded local runtime: the stack's own synthesized template, provisioned on moto, with the
Lambda handlers run in-process. No AWS account, no Docker."""
