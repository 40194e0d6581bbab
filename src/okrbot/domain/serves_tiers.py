"""The three honest answers to "does this serve a KR?": it serves KR-n (confident),
it might serve KR-n, KR-m (weaker evidence, said so), or no KR fits (none named).

The matcher already drops every KR below its "no KR" cut-off (matching.NO_MATCH_THRESHOLD);
this decides how sure the answer may sound about the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

# At or above this confidence the best KR is named as served. Chosen on the tune
# half of eval/serves (`python -m eval.serves_eval` prints it re-tuned): the lowest
# cut-off at which the KR named first is right for at least SERVES_PRECISION of the
# requests it names one for, off-topic requests included.
SERVES_THRESHOLD = 0.64
SERVES_PRECISION = 0.98
# A best KR that another one matches about as well is not a confident answer:
# "Serves" also needs this lead over the second KR named.
SERVES_LEAD = 0.02


class Tier(StrEnum):
    SERVES = "serves"
    MIGHT = "might"
    NONE = "none"


def tier_of(scores: Sequence[float], *, serves_threshold: float = SERVES_THRESHOLD) -> Tier:
    """The answer's tier, from the confidences of the KRs it would name, best first
    (every one already above the "no KR" cut-off)."""
    if not scores:
        return Tier.NONE
    clear_lead = len(scores) == 1 or scores[0] - scores[1] >= SERVES_LEAD
    return Tier.SERVES if scores[0] >= serves_threshold and clear_lead else Tier.MIGHT
