#!/bin/sh
# Install the Debian 12 packages popgate needs to build, test and demo,
# skipping those already present. Runs as root (apt-get), non-interactively.
set -eu

BUILD_PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
  libnl-3-dev libnl-route-3-dev libsystemd-dev linux-libc-dev libc6-dev"
TEST_PKGS="bats systemd-journal-remote iproute2 procps ethtool util-linux libcap2-bin postfix dovecot-pop3d
  dovecot-imapd faketime swaks libio-socket-inet6-perl libnet-ssleay-perl curl openssl logrotate systemd psmisc libclang-rt-14-dev"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks for a mail name and a setup type; a local-only default keeps
# its postinst quiet. Tests run their own Postfix instance with its own config.
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
echo "postfix postfix/mailname string popgate.test" | debconf-set-selections
# No daemons started by package scripts: tests start their own instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
