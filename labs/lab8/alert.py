"""Turn a SIEM alert into a Slack message (Block Kit) a responder can act on.

The grader calls ``render(alert, context)`` for a few alerts of its hidden dataset and
checks the message it returns: valid Block Kit within Slack's limits, carrying who, from
where and what they did in the last day, with buttons to confirm or deny. The lab page's
"alert contract" lists every key of ``alert`` and ``context``.
"""

from __future__ import annotations

from typing import Any


def render(alert: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    # TODO - a bare "rule X matched" makes the responder go and look everything up.
    #   Show who (context["user"]), from where (the address and context["network"]),
    #   and what they did in the last day (context["activity"]); add the buttons a
    #   person presses to say "this was me" or "this was not me". And a header's text
    #   is plain text only: Slack refuses markdown there.
    rule = alert["rule"]
    return {
        "text": f"{rule['title']} ({alert['event']['event_id']})",
        "blocks": [
            {"type": "header", "text": {"type": "mrkdwn", "text": f"*{rule['title']}*"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"Event `{alert['event']['event_id']}`"},
            },
        ],
    }
