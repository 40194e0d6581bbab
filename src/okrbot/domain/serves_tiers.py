"""The three honest answers to "does this serve a KR?": it serves KR-n (confident),
it might serve KR-n, KR-m (weaker evidence, said so), or no KR fits (none named).

The matcher already drops every KR below its "no KR" cut-off (matching.NO_MATCH_THRESHOLD);
this decides how sure the answer may sound about the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from okrbot.domain.matching import Match

# At or above this confidence the best KR is named as served. Chosen on the tune
# half of eval/serves (`python -m eval.serves_eval` prints it re-tuned): the lowest
# cut-off at which the KR named first is right for at least SERVES_PRECISION of the
# requests it names one for, off-topic requests included.
SERVES_THRESHOLD = 0.62
SERVES_PRECISION = 0.98


class Tier(StrEnum):
    SERVES = "serves"
    MIGHT = "might"
    NONE = "none"


@dataclass(frozen=True)
class TieredMatches:
    tier: Tier
    matches: tuple[Match, ...]  # best first; under SERVES the first is the confident one


def tiered(matches: Sequence[Match], *, serves_threshold: float = SERVES_THRESHOLD) -> TieredMatches:
    """The answer's tier for a matcher's ranked matches (all above the "no KR" cut-off)."""
    if not matches:
        return TieredMatches(Tier.NONE, ())
    tier = Tier.SERVES if matches[0].score >= serves_threshold else Tier.MIGHT
    return TieredMatches(tier, tuple(matches))
