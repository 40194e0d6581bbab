"""Operating okrbot: metrics, request log lines, readiness (issue 18)."""
