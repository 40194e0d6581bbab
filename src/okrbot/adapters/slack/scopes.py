"""The bot scopes manifest.yml asks for, so `okrbot doctor` can compare an installed
token with them (manifest.yml does not ship with the package; tests/observability/
test_doctor.py keeps this list and the manifest's equal)."""

BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "mpim:history",
    "reactions:read",
    "users:read",
)
