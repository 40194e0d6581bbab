"""The three honest answers to "does this serve a KR?": it serves KR-n (confident),
it might serve KR-n, KR-m (weaker evidence, said so), or no KR fits (none named).

The matcher already answers "no KR" when its best KR is below its cut-off
(matching.NO_MATCH_THRESHOLD); this decides how sure the answer may sound about the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

# At or above this confidence the best KR is named as served. Chosen on the TUNE
# organisations of eval/realokrs (`python -m eval.ranking_tune`): the lowest cut-off
# at which the KR a "Serves" answer names is right for at least SERVES_PRECISION of
# the requests answered "Serves" (real work asked cold and warm, and other
# organisations' work, off-topic). At the former 0.64, chosen on eval/serves whose
# requests share the KRs' words, "Serves" was right for 0.47 of them on real work.
SERVES_THRESHOLD = 0.83
SERVES_PRECISION = 0.80
# A best KR that another one matches about as well is not a confident answer:
# "Serves" also needs this lead over the second KR named.
SERVES_LEAD = 0.02


class Tier(StrEnum):
    SERVES = "serves"
    MIGHT = "might"
    NONE = "none"


def tier_of(scores: Sequence[float], *, serves_threshold: float = SERVES_THRESHOLD) -> Tier:
    """The answer's tier, from the confidences of the KRs it would name, best first
    (the first already above the "no KR" cut-off)."""
    if not scores:
        return Tier.NONE
    clear_lead = len(scores) == 1 or scores[0] - scores[1] >= SERVES_LEAD
    return Tier.SERVES if scores[0] >= serves_threshold and clear_lead else Tier.MIGHT
