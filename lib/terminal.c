/*
 * The terminal ctxrun was started on: whether COMMAND shares ctxrun's
 * process group (so that job control moves them together), and its modes,
 * put back at the end when ctxrun ended a program that changed them.
 */
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"
#include "module.h"
#include "sup.h"

/* With a controlling terminal (whatever fds 0-2 are), COMMAND stays in
 * ctxrun's process group: where the shell's job control puts ctxrun,
 * foreground or background, then fg, COMMAND is too, and it can read the
 * terminal or /dev/tty without being stopped. */
void
open_terminal(struct sup *s)
{
	s->term.tty = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	s->term.shares_group = s->p->foreground || s->p->own_pgrp || s->term.tty >= 0;
	s->sweep.shares_group = s->term.shares_group;
}

/* A program killed with the terminal in raw mode cannot put it back: ctxrun
 * does, when it was the one to end it.  Only with the relay, which stands
 * between the tree and the terminal. */
void
save_terminal(struct sup *s)
{
	int fd = s->idle.relaying ? relay_terminal(&s->idle.relay) : -1;

	if (fd >= 0)
		s->term.saved = tcgetattr(fd, &s->term.modes) == 0;
}

/* The terminal's modes as they were, if they changed and ctxrun is in the
 * foreground (in the background, setting them would stop it).  At once,
 * not once the output is drained: a terminal stopped with Ctrl-S never
 * drains, and ctxrun would wait with it. */
static void
restore_terminal(struct sup *s)
{
	int fd = relay_terminal(&s->idle.relay);
	struct termios now;

	if (tcgetattr(fd, &now) == 0 && memcmp(&now, &s->term.modes, sizeof(now)) != 0 &&
	    tcgetpgrp(fd) == getpgrp())
		(void)tcsetattr(fd, TCSANOW, &s->term.modes);
}

static void
terminal_close(struct sup *s)
{
	if (s->term.saved && s->out->cause != DONE_NOT_YET)
		restore_terminal(s);
	if (s->term.tty >= 0)
		close(s->term.tty);
	s->term.tty = -1;
}

const struct module terminal_module = {
	.name = "terminal",
	.close = terminal_close,
};
