"""Test-suite settings shared by tests/ and examples/.

Property-based tests draw the same examples on every run (``derandomize``), so a red CI run
always reproduces; set ``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples.
"""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
