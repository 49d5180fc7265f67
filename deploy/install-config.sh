#!/bin/sh
# install-config.sh DESTDIR SYSCONFDIR SBINDIR - called by `make install`.
# Installs the example configuration (never over an operator's own) and the
# systemd unit with the binaries' real path.
set -eu
destdir=$1 sysconfdir=$2 sbindir=$3
here=$(dirname "$0")

install -d -m 0755 "$destdir$sysconfdir/popgate"
if [ -e "$destdir$sysconfdir/popgate/popgate.conf" ]; then
	echo "install: keeping $sysconfdir/popgate/popgate.conf; the example is popgate.conf.example"
	install -m 0644 "$here/popgate.conf" "$destdir$sysconfdir/popgate/popgate.conf.example"
else
	install -m 0644 "$here/popgate.conf" "$destdir$sysconfdir/popgate/popgate.conf"
fi
install -d -m 0755 "$destdir/lib/systemd/system"
sed "s|@SBINDIR@|$sbindir|g" "$here/popgate.service" > "$destdir/lib/systemd/system/popgate.service"
chmod 0644 "$destdir/lib/systemd/system/popgate.service"
