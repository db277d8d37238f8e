#!/usr/bin/env bats
# make install and uninstall, into a temporary DESTDIR.
load helper

TOP=$BATS_TEST_DIRNAME/../..

installed_files() {
	(cd "$T/root" && find . -type f -o -type l | sort)
}

@test "make install puts every file where its tool looks, and uninstall takes them all away" {
	run make -s -C "$TOP" install DESTDIR="$T/root" PREFIX=/usr
	assert_success
	run installed_files
	assert_output "./usr/bin/ctxrun
./usr/share/bash-completion/completions/ctxrun
./usr/share/fish/vendor_completions.d/ctxrun.fish
./usr/share/man/man1/ctxrun.1
./usr/share/zsh/site-functions/_ctxrun"
	[ -x "$T/root/usr/bin/ctxrun" ]
	run "$T/root/usr/bin/ctxrun" -t 5 -- "$T/root/usr/bin/ctxrun" value X
	assert_failure 1
	run "$T/root/usr/bin/ctxrun" --value X=installed -- "$T/root/usr/bin/ctxrun" value X
	assert_output installed
	run mandoc -Tascii "$T/root/usr/share/man/man1/ctxrun.1"
	assert_output --partial "ctxrun"
	run make -s -C "$TOP" uninstall DESTDIR="$T/root" PREFIX=/usr
	assert_success
	run installed_files
	assert_output ""
}

@test "the timeout link only on request, and uninstall removes it" {
	run make -s -C "$TOP" install DESTDIR="$T/root" PREFIX=/usr
	[ ! -e "$T/root/usr/bin/timeout" ] || fail "install made a timeout link"
	run make -s -C "$TOP" install-timeout-link DESTDIR="$T/root" PREFIX=/usr
	assert_success
	[ "$(readlink "$T/root/usr/bin/timeout")" = ctxrun ]
	run -124 "$T/root/usr/bin/timeout" 0.2 sleep $U
	run make -s -C "$TOP" uninstall DESTDIR="$T/root" PREFIX=/usr
	run installed_files
	assert_output ""
	assert_no_leftovers
}
