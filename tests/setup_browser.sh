#!/bin/sh
# Headless Chromium and a CJK font for the HTML report test (tests/test_report.py).
# Installs Debian's packages when they are missing and we may (root with apt-get); otherwise
# says why and leaves it: that one test then skips with the reason.
command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "wenquanyi" && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-wqy-microhei) >/dev/null 2>&1 || echo "setup_browser: apt-get install chromium failed" >&2
else
    echo "setup_browser: chromium not installed (needs root and apt-get); the report test will skip" >&2
fi
exit 0
