"""Every action, callback and block id the bot sends or handles, in one place.

manifest.yml and the listeners are checked against these in tests.
"""

from enum import StrEnum


class Action(StrEnum):
    CHECKIN_OPEN = "kr_checkin_open"  # Check in / Update: opens the check-in modal
    NO_CHANGE = "kr_no_change"  # review DM: nothing moved this cycle
    MARK_DONE = "initiative_mark_done"
    REOPEN = "initiative_reopen"
    LINK_OPEN = "initiative_link_open"  # Link: opens the link modal
    SERVES_LINK = "serves_link"  # link a request to the KR it serves
    UNDO = "change_undo"
    EDIT_OPEN = "edit_open"
    KR_NEW_OPEN = "kr_new_open"  # Add KR on an objective card: opens the new KR form
    INITIATIVE_NEW_OPEN = "initiative_new_open"  # Add work on a KR card: opens the new initiative form
    HOME_REFRESH = "home_refresh"
    HOME_NEW_OBJECTIVE = "home_new_objective"
    SERVES_REJECT = "serves_reject"  # "Not this one" on a serves suggestion: negative evidence
    CHECKIN_EDIT_OPEN = "checkin_edit_open"  # Edit on a check-in in history: opens the fix form
    CHECKIN_DELETE = "checkin_delete"  # Delete on a check-in in history (with a confirmation)
    CHART = "chart_show"  # Chart on a KR (status, history): uploads its trend as a picture
    GRADE_ACCEPT = "grade_accept"  # grading DM: every ungraded KR takes its suggested grade
    GRADE_OPEN = "grade_open"  # grading DM: opens the grade-and-note modal for one KR
    GRADE_CARRY = "grade_carry"  # grading DM: carry one of the owner's objectives into the next period


class Callback(StrEnum):
    OBJECTIVE_MODAL = "objective_modal"
    KR_MODAL = "kr_modal"
    INITIATIVE_MODAL = "initiative_modal"
    CHECKIN_MODAL = "checkin_modal"
    LINK_MODAL = "link_modal"
    CHECKIN_FIX_MODAL = "checkin_fix_modal"
    CHECKIN_ANY_MODAL = "checkin_any_modal"  # the global shortcut: pick the KR in the form
    GRADE_MODAL = "grade_modal"


class Shortcut(StrEnum):
    """callback_id of each shortcut in manifest.yml."""

    SERVES_MESSAGE = "serves_message"  # on a message: "Does this serve a KR?"
    CHECKIN = "checkin_kr"  # global: "Check in on a KR"


class Picker(StrEnum):
    """action_id of the searchable menus in forms; Slack asks for their options (block_suggestion)."""

    KR = "pick_kr"
    OBJECTIVE = "pick_objective"


class Field(StrEnum):
    """block_id of each modal input; the action_id inside is "value"."""

    TITLE = "title"
    OWNER = "owner"
    TEAM = "team"
    PERIOD = "period"
    PARENT = "parent"
    PRIVATE = "private"
    DESCRIPTION = "description"
    METRIC = "metric"
    START = "start"
    TARGET = "target"
    UNIT = "unit"
    WEIGHT = "weight"
    VALUE = "value"
    CONFIDENCE = "confidence"
    NOTE = "note"
    URL = "url"
    KR = "kr"
    STATUS = "status"
    COMMITMENT = "commitment"
    GRADE = "grade"


INPUT_ACTION = "value"
