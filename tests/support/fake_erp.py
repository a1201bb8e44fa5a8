"""The fake ERP/PSA/CRM lives in local/fake_erp.py (the CLI's --inject-faults serves the ports with
it); tests import it from here as before."""

from local.fake_erp import TOKEN_PATH, FakeErp, Fault, RecordedRequest

__all__ = ["TOKEN_PATH", "FakeErp", "Fault", "RecordedRequest"]
