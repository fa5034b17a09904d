#!/usr/bin/env bash
# Headless Chromium as the tour's tests run it (crates/tour/tests/html.rs),
# and as the README's screenshot was made:
#
#   bash scripts/chromium.sh --dump-dom file:///…/tour.html
#   bash scripts/chromium.sh --window-size=1280,900 --screenshot=out.png file:///…/tour.html#brk-2
#
# --no-sandbox: as root Chromium refuses to start without it. A profile
# of its own (--user-data-dir): as another user, without one it prints
# nothing and exits 0. --disable-gpu: a headless machine has none to
# use. --disable-background-networking, --disable-component-update and
# --no-first-run: no network traffic and no first-run setup, so that a
# run depends only on the page. Console messages of the page appear on
# stderr as `CONSOLE` lines (--enable-logging=stderr), among harmless
# dbus errors.
set -euo pipefail
profile=$(mktemp -d "${TMPDIR:-/tmp}/mmm-chromium.XXXXXX")
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --enable-logging=stderr \
    --user-data-dir="$profile" "$@"
