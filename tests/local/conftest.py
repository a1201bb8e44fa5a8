from tests.support.runtime_fixture import runtime  # noqa: F401 - one embedded runtime per test module
