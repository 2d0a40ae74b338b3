"""Where the tests find the reference: the published API and production's recorded answers.

The ONE place that names the location (``reference/`` at the top of the repository, see its
README). ``SIMPLYQ_REFERENCE_DIR`` points the tests at another copy; ``SIMPLYQ_RECORDED_DIR``
at another folder of recordings only.
"""

from __future__ import annotations

import os
from pathlib import Path

REFERENCE_DIR = Path(
    os.environ.get("SIMPLYQ_REFERENCE_DIR", Path(__file__).resolve().parents[1] / "reference")
)
OPENAPI = REFERENCE_DIR / "openapi.yml"
RECORDED = Path(os.environ.get("SIMPLYQ_RECORDED_DIR", REFERENCE_DIR / "recorded"))
