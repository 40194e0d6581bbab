"""The bot scopes manifest.yml asks for, so `okrbot doctor` can compare an installed
token with them (manifest.yml does not ship with the package; tests/observability/
test_doctor.py keeps this list and the manifest's equal)."""

BOT_SCOPES = (
    "app_mentions:read",
    "channels:read",
    "chat:write",
    "commands",
    "groups:read",
    "im:history",
    "im:write",
    "reactions:read",
    "users:read",
)
