#!/usr/bin/env bash
# Start a GUI command and wait until it shows a window: succeed when a visible (mapped)
# window whose name matches NAME appears while the command is still running; fail when the
# command exits first (a Qt that cannot load its platform plugin aborts) or after SECONDS.
# The command is stopped either way. Needs DISPLAY (e.g. under xvfb-run) and xdotool.
#
#   packaging/wait-for-window.sh NAME SECONDS COMMAND [ARG...]
set -uo pipefail
NAME="$1" WAIT="$2"
shift 2
LOG="$(mktemp "${TMPDIR:-/tmp}/wait-for-window.XXXXXX")"
trap 'rm -f "$LOG" "$LOG.wid"' EXIT

# Its own session, so that stopping it stops what it started (make, then the app).
setsid "$@" >"$LOG" 2>&1 &
app=$!
# `xdotool search --sync` polls until a match; stop it early when the command is gone.
timeout "$WAIT" xdotool search --sync --onlyvisible --name "$NAME" >"$LOG.wid" 2>/dev/null &
finder=$!
while kill -0 "$finder" 2>/dev/null; do
  kill -0 "$app" 2>/dev/null || { kill "$finder" 2>/dev/null; break; }
  sleep 0.5
done
wait "$finder" 2>/dev/null
wid="$(head -n 1 "$LOG.wid")"
ok=0
if [ -n "$wid" ] && kill -0 "$app" 2>/dev/null; then
  echo "window $wid mapped: $(xdotool getwindowname "$wid")"
  xdotool getwindowgeometry "$wid"
  ok=1
fi
kill -- "-$app" 2>/dev/null
wait "$app" 2>/dev/null
[ "$ok" = 1 ] && exit 0
echo "no visible window named '$NAME' while the command ran (${WAIT}s at most); it said:" >&2
tail -n 30 "$LOG" >&2
exit 1
