import os

from hypothesis import settings

settings.register_profile("optviz", deadline=None, max_examples=200)
settings.load_profile("optviz")


def pytest_collection_modifyitems(config, items):
    """In CI (OPTVIZ_REQUIRE_TORCH=1) the parity suite must run: a missing torch is an error, not a skip."""
    if os.environ.get("OPTVIZ_REQUIRE_TORCH") == "1":
        import torch  # noqa: F401  (ImportError here fails the run loudly)
