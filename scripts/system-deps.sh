#!/usr/bin/env bash
# Installs the Debian packages the test suite runs for real, if missing:
#   chromium     headless browser driven by Playwright (never `playwright install`)
#   postgresql   the store's tests also run on PostgreSQL
#   dovecot-imapd  a real IMAP server for the email channel's tests
#   swaks        a real SMTP client for the SMTP listener's tests
#   libnet-ssleay-perl  swaks -tls (the STARTTLS tests)
# Services are not started here: the tests start their own, on loopback, in temp dirs.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
command -v swaks >/dev/null || need+=(swaks)
perl -MNet::SSLeay -e1 2>/dev/null || need+=(libnet-ssleay-perl)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "Installing system packages: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
