/*
 * What ctxrun catches, through a signalfd (signals.c).
 * Private to lib/: cmd/ uses lib/ctxrun.h only.
 */
#ifndef CTXRUN_SIGNALS_H
#define CTXRUN_SIGNALS_H

#include <signal.h>
#include "ctxrun.h"
#include "supervise.h"

struct caught_signals {
	int fd;                       /* signalfd, non-blocking */
	sigset_t set;                 /* blocked and read from fd */
	sigset_t orig_mask;           /* the caller's mask, for COMMAND */
	sigset_t child_default;       /* changed for ctxrun, default for COMMAND */
	bool sigchld_was_ignored;
	pid_t self;                   /* to know signals raised on ourselves */
};

/* One signal read from the signalfd. */
struct received {
	int sig;
	int code;                     /* si_code: SI_KERNEL from the terminal */
	pid_t sender;
};

/* Blocks and takes the policy's signals (those the caller ignored stay
 * ignored, unless kept); SIGCHLD is always taken.  -1 with errno. */
int signals_catch(struct caught_signals *cs, const struct policy *p);
/* Reads what is pending, up to n signals: all of them are read before any
 * is acted on, so that none starves another.  Signals ctxrun raised on
 * itself (PIPE or XFSZ from writing its messages) are dropped here. */
size_t signals_drain(struct caught_signals *cs, struct received *buf, size_t n);

#endif
