#!/bin/bash
# Runs as root after the deb or rpm is removed, and also after an upgrade replaced the old package: the
# links go only when the app's files are really gone.
app_dir='/opt/${sanitizedProductName}'
[ -e "$app_dir/resources/bin/berth" ] && exit 0

if [ -L '/usr/bin/${executable}' ] && [ "$(readlink '/usr/bin/${executable}')" = "$app_dir/resources/bin/berth" ]; then
  rm -f '/usr/bin/${executable}'
fi

profile='/etc/apparmor.d/${executable}'
if [ -f "$profile" ]; then
  if command -v apparmor_parser >/dev/null 2>&1 && ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
    apparmor_parser --remove "$profile" >/dev/null 2>&1 || true
  fi
  rm -f "$profile"
fi
exit 0
