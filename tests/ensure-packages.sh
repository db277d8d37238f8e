#!/bin/sh
# ensure-packages.sh PACKAGE:PATH...
# Installs the Debian packages whose PATH is missing when it can (root and
# apt-get present), otherwise names exactly what to install and fails.
missing=""
for spec in "$@"; do
	pkg=${spec%%:*}
	path=${spec#*:}
	[ -e "$path" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "ctxrun: installing missing Debian packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
		&& exit 0
	echo "ctxrun: apt-get could not install:$missing" >&2
	exit 1
fi
echo "ctxrun: missing Debian packages:$missing" >&2
echo "ctxrun: install them with: sudo apt-get install$missing" >&2
exit 1
