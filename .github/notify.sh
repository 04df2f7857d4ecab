#!/usr/bin/env bash
# Report a deploy's result: always to the job summary, and to a chat/webhook when
# NOTIFY_WEBHOOK_URL is set (Slack/Mattermost/Discord-compatible {"text": ...} body).
# Never fails the job: a notification problem must not hide the deploy's own result.
#   env: STACK VERSION RESULT RUN_URL [NOTIFY_WEBHOOK_URL]
set -uo pipefail
text="togather-deploy: ${STACK:-?} ${VERSION:-?} ${RESULT:-unknown} (${RUN_URL:-no run url})"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf '### %s\n' "$text" >> "$GITHUB_STEP_SUMMARY"
fi
echo "$text"
if [ -n "${NOTIFY_WEBHOOK_URL:-}" ]; then
  body=$(TEXT="$text" python3 -c 'import json, os; print(json.dumps({"text": os.environ["TEXT"]}))')
  curl -fsS --max-time 10 --retry 2 -H 'Content-Type: application/json' \
    -d "$body" "$NOTIFY_WEBHOOK_URL" >/dev/null || echo "notification failed (ignored)" >&2
fi
exit 0
