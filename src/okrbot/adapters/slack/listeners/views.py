"""Modal submissions. Problems are answered under the field at fault, before the
modal closes; a saved change is confirmed where the modal was opened."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError
from slack_bolt import Ack, App

from okrbot.domain.commands import Commitment, Direction, Keep, Kind, Metric, WorkRef
from okrbot.domain.ids import parse_ref
from okrbot.domain.urls import is_url
from okrbot.services import checkin_fix, checkins, okrs, work
from okrbot.services.errors import OkrbotError
from okrbot.adapters.slack.bot import SlackBot
from okrbot.adapters.slack.commands.checkin_fix import fix_reply
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.commands.okrs import objective_created
from okrbot.adapters.slack.commands.work import checkin_reply, linked_reply, refresh_cards, work_status_reply
from okrbot.adapters.slack.forms import Form, FormErrors, errors_for
from okrbot.adapters.slack.ids import Callback, Field
from okrbot.adapters.slack.mrkdwn import escape
from okrbot.adapters.slack.reply import Reply, ReplyTo
from okrbot.adapters.slack.views.modals import ModalMeta

KR_KINDS: dict[str, tuple[Metric, Direction, Keep | None]] = {
    "numeric": (Metric.NUMERIC, Direction.INCREASE, None),
    "percentage": (Metric.PERCENTAGE, Direction.INCREASE, None),
    "keep_above": (Metric.NUMERIC, Direction.MAINTAIN, Keep.ABOVE),
    "keep_below": (Metric.NUMERIC, Direction.MAINTAIN, Keep.BELOW),
    "boolean": (Metric.BOOLEAN, Direction.INCREASE, None),
    "milestone": (Metric.MILESTONE, Direction.INCREASE, None),
}

Submit = Callable[[UnitOfWork, Form, ModalMeta], Reply]
YES, NO = frozenset({"yes", "y", "done", "true"}), frozenset({"no", "n", "not yet", "false"})


def register(app: App, bot: SlackBot) -> None:
    register_submit(app, bot, Callback.OBJECTIVE_MODAL, submit_objective, Field.TITLE)
    register_submit(app, bot, Callback.KR_MODAL, submit_kr, Field.TITLE)
    register_submit(app, bot, Callback.INITIATIVE_MODAL, submit_initiative, Field.TITLE)
    register_submit(app, bot, Callback.CHECKIN_MODAL, submit_checkin, Field.VALUE)
    register_submit(app, bot, Callback.LINK_MODAL, submit_link, Field.URL)
    register_submit(app, bot, Callback.CHECKIN_FIX_MODAL, submit_checkin_fix, Field.VALUE)
    register_submit(app, bot, Callback.CHECKIN_ANY_MODAL, submit_checkin_any, Field.KR)


def register_submit(app: App, bot: SlackBot, callback: Callback, submit: Submit, default_field: Field) -> None:
    """One modal's submissions: field errors go back to the form, the rest to the person."""

    def on_submit(ack: Ack, body: dict, view: dict) -> None:
        _submit(bot, ack, body, view, submit, default_field)

    app.view(callback.value)(on_submit)


def _submit(bot: SlackBot, ack: Ack, body: dict, view: dict, submit: Submit, default_field: Field) -> None:
    try:
        meta = ModalMeta.model_validate_json(view.get("private_metadata") or "{}")
    except ValidationError:
        ack(response_action="errors", errors={default_field.value: "This form is out of date. Close it and open it again."})
        return
    team_id = (body.get("team") or {}).get("id") or view.get("team_id")
    actor = bot.actor(team_id, body["user"]["id"], meta.channel, source="modal")
    form = Form(view)
    failure: list[dict[str, str]] = []

    def run(ctx: UnitOfWork) -> Reply:
        try:
            return submit(ctx, form, meta)
        except FormErrors as errors:
            failure.append(errors.errors)
            raise
        except OkrbotError as error:
            failure.append(errors_for(error, view, default_field))
            raise

    outcome = bot.runner.in_unit_of_work(actor, run, reply_to=ReplyTo(actor.user_id, actor.channel_id), answer_problems=False)
    if outcome.duplicate:
        ack()  # saved by an earlier run of this submission, which a crash cut short
        return
    if failure:
        ack(response_action="errors", errors=failure[0])
        return
    if outcome.reply.error:
        # Not a problem with a field (e.g. the database is down): keep the form open and say so.
        ack(response_action="errors", errors={default_field.value: outcome.reply.text.removeprefix(":warning: ")})
        return
    ack()
    if not outcome.answered:
        bot.confirm(actor, outcome.reply)
    bot.deliver(outcome.queued)


def _objective_fields(form: Form, actor_user: str) -> okrs.NewObjective:
    title = form.text(Field.TITLE, required=True, label="A title")
    parent = form.ref(Field.PARENT, Kind.OBJECTIVE, "O-3")
    new = okrs.NewObjective(
        title=title or "",
        owner=form.user(Field.OWNER) or actor_user,
        team_channel=form.conversation(Field.TEAM),
        period=form.text(Field.PERIOD),
        parent=parent,
        private="private" in form.checked(Field.PRIVATE),
        description=form.text(Field.DESCRIPTION) or "",
    )
    form.raise_if_errors()
    return new


def submit_objective(ctx: UnitOfWork, form: Form, meta: ModalMeta) -> Reply:
    new = _objective_fields(form, ctx.actor.user_id)
    if meta.number is None:
        return objective_created(ctx, okrs.create_objective(ctx.session, ctx.actor, new))
    objective = okrs.update_objective(ctx.session, ctx.actor, meta.number, new)
    return Reply.say(f"Saved *O-{objective.number}* {escape(objective.title)}.")


def submit_kr(ctx: UnitOfWork, form: Form, meta: ModalMeta) -> Reply:
    title = form.text(Field.TITLE, required=True, label="A title")
    kind = form.choice(Field.METRIC) or "numeric"
    metric, direction, keep = KR_KINDS.get(kind, KR_KINDS["numeric"])
    start = form.number(Field.START)
    target = form.number(Field.TARGET)
    weight = form.number(Field.WEIGHT)
    if metric in (Metric.NUMERIC, Metric.PERCENTAGE):
        if target is None and Field.TARGET.value not in form.errors:
            form.fail(Field.TARGET, "Give the target (or, to keep a level, the level).")
        if direction is not Direction.MAINTAIN and start is None and Field.START.value not in form.errors:
            form.fail(Field.START, "Give the value you start from.")
    form.raise_if_errors()
    if direction is Direction.INCREASE and metric in (Metric.NUMERIC, Metric.PERCENTAGE) and start > target:
        direction = Direction.DECREASE
    unit = "%" if metric is Metric.PERCENTAGE else form.text(Field.UNIT)
    new = okrs.NewKr(
        objective=meta.objective,
        title=title,
        metric=metric,
        direction=direction,
        owner=form.user(Field.OWNER) or ctx.actor.user_id,
        start=start if direction is not Direction.MAINTAIN else None,
        target=target,
        unit=unit,
        keep=keep,
        weight=weight if weight is not None else 1.0,
        commitment=Commitment(choice) if (choice := form.choice(Field.COMMITMENT)) in set(Commitment) else None,
    )
    if meta.number is None:
        objective = okrs.get_objective(ctx.session, ctx.actor, meta.objective)
        okrs.require_can_edit(ctx.actor, objective)
        kr = okrs.create_kr(ctx.session, ctx.actor, new)
        return Reply.say(f"Created *KR-{kr.number}* {escape(kr.title)} on O-{meta.objective}.")
    kr = okrs.update_kr(ctx.session, ctx.actor, meta.number, new)
    return Reply.say(f"Saved *KR-{kr.number}* {escape(kr.title)}.")


def submit_initiative(ctx: UnitOfWork, form: Form, meta: ModalMeta) -> Reply:
    title = form.text(Field.TITLE, required=True, label="A title")
    url = form.text(Field.URL)
    if url is not None and not is_url(url):
        form.fail(Field.URL, "Links start with https://")
    owner = form.user(Field.OWNER) or ctx.actor.user_id
    if meta.number is not None:
        form.raise_if_errors()
        status = form.choice(Field.STATUS) or work.NOT_STARTED
        outcome = work.update_initiative(ctx.session, ctx.actor, meta.number, title=title, owner=owner, url=url, status=status)
        if outcome.changed:
            return work_status_reply(ctx, outcome)
        refresh_cards(ctx, outcome.initiative)  # the cards show its title, link and owner
        return Reply.say(f"Saved *I-{outcome.initiative.number}* {escape(outcome.initiative.title)}.")
    weight = form.number(Field.WEIGHT)
    form.raise_if_errors()
    outcome = work.create_initiative(ctx.session, ctx.actor, kr_number=meta.kr, title=title, owner=owner, url=url, weight=weight)
    return linked_reply(ctx, outcome)


def submit_checkin(ctx: UnitOfWork, form: Form, meta: ModalMeta) -> Reply:
    value = _checkin_value(form)
    confidence = form.choice(Field.CONFIDENCE)
    note = form.text(Field.NOTE)
    form.raise_if_errors()
    outcome = checkins.record_checkin(
        ctx.session, ctx.actor, meta.number, value, confidence=int(confidence) if confidence else None, note=note
    )
    return checkin_reply(ctx, outcome)


def submit_checkin_any(ctx: UnitOfWork, form: Form, meta: ModalMeta) -> Reply:
    """The global shortcut's form: the KR was picked (or its id typed), the value typed."""
    kr = form.ref(Field.KR, Kind.KR, "KR-3")
    typed = (form.text(Field.VALUE) or "").lower()
    value = (typed in YES) if typed in YES | NO else form.number(Field.VALUE, required=True, label="A value")
    confidence = form.choice(Field.CONFIDENCE)
    note = form.text(Field.NOTE)
    if kr is None and Field.KR.value not in form.errors:
        form.fail(Field.KR, "Pick the key result to check in.")
    form.raise_if_errors()
    outcome = checkins.record_checkin(ctx.session, ctx.actor, kr, value, confidence=int(confidence) if confidence else None, note=note)
    return checkin_reply(ctx, outcome)


def submit_checkin_fix(ctx: UnitOfWork, form: Form, meta: ModalMeta) -> Reply:
    value = _checkin_value(form)
    confidence = form.choice(Field.CONFIDENCE)
    note = form.text(Field.NOTE) or ""  # a cleared note is removed
    form.raise_if_errors()
    checkin = checkin_fix.get_checkin(ctx.session, ctx.actor, meta.checkin or 0)
    outcome = checkin_fix.fix_checkin(ctx.session, ctx.actor, checkin, value, confidence=int(confidence) if confidence else None, note=note)
    return fix_reply(ctx, outcome)


def submit_link(ctx: UnitOfWork, form: Form, meta: ModalMeta) -> Reply:
    text = form.text(Field.URL, required=True, label="An initiative id or a link")
    weight = form.number(Field.WEIGHT)
    reference = None
    if text is not None:
        ref = parse_ref(text)
        if ref is not None and ref.kind is Kind.INITIATIVE:
            reference = WorkRef(initiative=ref.number)
        elif is_url(text):
            reference = WorkRef(url=text)
        else:
            form.fail(Field.URL, f"“{text}” is neither an initiative id like I-12 nor a link.")
    form.raise_if_errors()
    outcome = work.link(ctx.session, ctx.actor, reference, meta.kr, weight)
    if not outcome.changed:
        return Reply.say(f"I-{outcome.initiative.number} is already linked to KR-{meta.kr}; nothing changed.")
    return linked_reply(ctx, outcome)


def _checkin_value(form: Form) -> float | bool | None:
    choice = form.choice(Field.VALUE)
    return (choice == "yes") if choice in ("yes", "no") else form.number(Field.VALUE, required=True, label="A value")
