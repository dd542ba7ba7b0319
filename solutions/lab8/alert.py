"""Turn a SIEM alert into a Slack message (Block Kit) a responder can act on.

One message per alert: a header naming the rule, a summary of what happened, fields with
who, from where and the last day's activity, a context line with the rule and its ATT&CK
technique, and two buttons asking the person concerned whether it was them. Every text is
cut to Slack's limits, so an unusual value cannot make Slack refuse the whole message.
"""

from __future__ import annotations

import json
from typing import Any

SEVERITY_ICON = {"low": ":information_source:", "medium": ":warning:",
                 "high": ":rotating_light:", "critical": ":rotating_light:"}  # fmt: skip


def _cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters (Slack refuses longer), marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def _mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cut(text, limit)}


def _who(user: dict[str, Any]) -> str:
    name = user.get("display_name") or user.get("name") or "unknown"
    extra = [x for x in (user.get("name"), user.get("email")) if x and x != name]
    line = f"*{name}*" + (f" ({', '.join(extra)})" if extra else "")
    details = [x for x in (user.get("team"), user.get("kind")) if x]
    return line + (f"\n{' · '.join(details)}" if details else "")


def _where(network: dict[str, Any]) -> str:
    place = network.get("name") or ", ".join(
        x for x in (network.get("city"), network.get("country")) if x
    )
    known = "a network of ours" if network.get("known") else "*not one of our networks*"
    seen = (
        "seen for this user today"
        if network.get("seen_for_user_in_last_24h")
        else "new for this user"
    )
    return f"`{network.get('ip')}` — {place or 'unknown place'}\n{known}, {seen}"


def _activity(activity: dict[str, Any]) -> str:
    top = ", ".join(f"{t['event_name']} ×{t['count']}" for t in activity.get("top_events", []))
    return (
        f"{activity['events']} AWS events in the last {activity['hours']} h"
        f" · console sign-ins {activity['console_sign_ins']}"
        f" ({activity['console_failures']} failed)"
        f" · IdP sign-ins {activity['idp_sign_ins']} ({activity['idp_failures']} failed)"
        + (f"\nMost: {top}" if top else "")
    )


def render(alert: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    rule, event = alert["rule"], alert["event"]
    user, network, activity = context["user"], context["network"], context["activity"]
    icon = SEVERITY_ICON.get(rule.get("severity", ""), ":warning:")
    summary = (
        f"{icon} *{event['event_name']}* ({event.get('outcome') or 'done'}) at "
        f"{event['event_time']} in account `{event.get('account_id')}`"
    )
    for related in alert.get("related", [])[:5]:
        summary += (
            f"\n• IdP sign-in {related['result']} at {related['event_time']} from "
            f"`{related['source_ip']}` ({related.get('country') or '?'})"
        )
    answer = {"alert": alert["id"], "event_id": event["event_id"]}
    return {
        "text": _cut(f"{rule['title']}: {user.get('name')} from {network.get('ip')}", 3000),
        "blocks": [
            {"type": "header", "text": _plain(rule["title"], 150)},
            {"type": "section", "text": _mrkdwn(summary, 3000)},
            {
                "type": "section",
                "fields": [
                    _mrkdwn(f"*User*\n{_who(user)}", 2000),
                    _mrkdwn(f"*Source network*\n{_where(network)}", 2000),
                    _mrkdwn(f"*Last day*\n{_activity(activity)}", 2000),
                    _mrkdwn(f"*Client*\n{event.get('user_agent') or '?'}", 2000),
                ],
            },
            {
                "type": "context",
                "elements": [
                    _mrkdwn(
                        f"Rule `{rule['id']}` · ATT&CK {rule.get('technique', '?')} · "
                        f"severity {rule.get('severity', '?')} · event `{event['event_id']}`",
                        3000,
                    )
                ],
            },
            {
                "type": "actions",
                "block_id": _cut(f"answer:{event['event_id']}", 255),
                "elements": [
                    {
                        "type": "button",
                        "text": _plain("Yes, this was me", 75),
                        "style": "primary",
                        "action_id": "confirm",
                        "value": _cut(json.dumps({**answer, "answer": "confirm"}), 2000),
                    },
                    {
                        "type": "button",
                        "text": _plain("No, this was not me", 75),
                        "style": "danger",
                        "action_id": "deny",
                        "value": _cut(json.dumps({**answer, "answer": "deny"}), 2000),
                        "confirm": {
                            "title": _plain("Not you?", 100),
                            "text": _plain("The security team is paged at once.", 300),
                            "confirm": _plain("Not me", 30),
                            "deny": _plain("Go back", 30),
                        },
                    },
                ],
            },
        ],
    }
