#!/bin/sh
# Installs Debian packages when their commands are missing; quiet when all are present.
# Usage: debian-deps.sh LABEL PACKAGE:COMMAND... (the command proves the package works from PATH).
set -eu

label=$1
shift
PAIRS="$*"

missing=""
for pair in $PAIRS; do
  cmd=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing="$missing ${pair%%:*}"
done
missing=${missing# }

[ -z "$missing" ] && exit 0

extra=""
case " $missing " in *" chromium "*) extra="fonts-liberation" ;; esac

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "$label: missing tools (Debian package names): $missing" >&2
  echo "$label: install their equivalents with your package manager, then rerun." >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "$label: missing: $missing" >&2
  echo "$label: run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing $extra" >&2
  exit 1
fi

echo "$label: installing $missing $extra" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing $extra >/dev/null

case " $missing " in
  *" chromium "*)
    if ! chromium --headless=new --no-sandbox --disable-gpu --dump-dom 'data:text/html,<p>ok</p>' 2>/dev/null | grep -q '<p>ok</p>'; then
      echo "$label: chromium does not render headless without recommends; installing them" >&2
      recommends=$(apt-cache depends chromium chromium-common | awk '/Recommends:/ && $2 !~ /^</ {print $2}' | sort -u)
      # shellcheck disable=SC2086
      apt-get install -y -qq $recommends >/dev/null
    fi
    ;;
esac

still=""
for pair in $PAIRS; do
  command -v "${pair#*:}" >/dev/null 2>&1 || still="$still ${pair%%:*}"
done
if [ -n "$still" ]; then
  echo "$label: still missing after install:$still" >&2
  exit 1
fi
