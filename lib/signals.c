/*
 * The signals ctxrun takes: blocked, and read from a signalfd in the one
 * poll of the supervisor, so that no handler ever runs.
 *
 * COMMAND inherits the blocked mask and the dispositions across exec: the
 * caller's mask comes back in the child (spawn.c), and what ctxrun changed
 * for itself goes back to default there.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "internal.h"
#include "signals.h"

int
signals_catch(struct caught_signals *cs, const struct policy *p)
{
	struct sigaction old;

	memset(cs, 0, sizeof(*cs));
	cs->fd = -1;
	cs->self = getpid();
	sigemptyset(&cs->set);
	sigemptyset(&cs->child_default);
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if ((!sigismember(&p->caught, sig) && sig != SIGCHLD) ||
		    sigaction(sig, NULL, &old) == -1)
			continue;
		if (old.sa_handler == SIG_IGN) {
			/* Ignored by the caller: stays ignored, for COMMAND too
			 * (a script's background job ignores INT).  SIGCHLD must
			 * not be, or the kernel reaps for us; GNU timeout always
			 * takes ALRM and its -s signal, and COMMAND gets them back
			 * at their default. */
			if (sig == SIGCHLD)
				cs->sigchld_was_ignored = true;
			else if (!sigismember(&p->keep_caught, sig))
				continue;
			else
				sigaddset(&cs->child_default, sig);
			signal(sig, SIG_DFL);
		}
		sigaddset(&cs->set, sig);
	}
	sigaddset(&cs->set, SIGCHLD);
	/* Blocked, SIGCONT still continues ctxrun; read, it says ctxrun was
	 * stopped (the idle time must not count that). */
	sigaddset(&cs->set, SIGCONT);
	if (p->ignore_ttin_ttou) {
		/* Never stopped when a background COMMAND needs the terminal. */
		signal(SIGTTIN, SIG_IGN);
		signal(SIGTTOU, SIG_IGN);
		/* COMMAND gets them at their default, as from GNU timeout. */
		sigaddset(&cs->child_default, SIGTTIN);
		sigaddset(&cs->child_default, SIGTTOU);
	}
	if (sigprocmask(SIG_BLOCK, &cs->set, &cs->orig_mask) == -1)
		return -1;
	cs->fd = signalfd(-1, &cs->set, SFD_CLOEXEC | SFD_NONBLOCK);
	return cs->fd < 0 ? -1 : 0;
}

size_t
signals_drain(struct caught_signals *cs, struct received *buf, size_t n)
{
	struct signalfd_siginfo si;
	size_t got = 0;

	while (got < n && read(cs->fd, &si, sizeof(si)) == sizeof(si)) {
		/* A write of ctxrun's own to a closed pipe or past the file
		 * size limit raises PIPE or XFSZ on ctxrun itself, as sent by
		 * ctxrun: acting on it (passing it on, saying so) would write
		 * again and raise it again. */
		if ((si.ssi_signo == SIGPIPE || si.ssi_signo == SIGXFSZ) &&
		    (pid_t)si.ssi_pid == cs->self && si.ssi_code == SI_USER)
			continue;
		buf[got++] = (struct received){ .sig = (int)si.ssi_signo,
		    .code = si.ssi_code, .sender = (pid_t)si.ssi_pid };
	}
	return got;
}
