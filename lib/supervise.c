/*
 * Supervising COMMAND and its whole tree: one run is a small state machine.
 *
 *   RUNNING    wakes at the effective deadline (and the idle deadline,
 *              and when a --warn signal is due)
 *   HOOK       the deadline passed: the --on-timeout hook looks at the tree
 *              as it was; wakes at the hook's limit
 *   SIGNALLED  the first signal went out; wakes at the end of the grace
 *   KILLING    KILL went out; wakes to look again while anything lived
 *   DONE       nothing is left (or what is left is left on purpose)
 *
 * With retries, each attempt is such a run, and between two of them
 *
 *   WAITING    wakes when the next attempt is due
 *
 * ctxrun is the child subreaper of everything it starts, so every orphan of
 * the tree comes back to it, and no child left means no tree left.  It sleeps
 * in one ppoll() on a signalfd, its registry socket, its registered peers and
 * its own parent's connection, with the phase's one wake-up time as the
 * timeout: no wake-up while nothing happens.  Every wake-up drains all of
 * them before acting, messages first: a `ctxrun cancel` is answered before
 * it returns, so its message always comes before COMMAND's exit.
 *
 * This file decides; it does not speak.  What happened goes back to the
 * front end as events and an outcome.
 *
 * This file holds the run's phases (what each one does when it is entered
 * and after every wake-up) and its set-up; the loop is in loop.c, and each
 * feature in a file of its own (sup.h lists them).
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctxrun.h"
#include "sup.h"

void
emit(const struct sup *s, struct event *ev)
{
	if (s->r->on_event != NULL)
		s->r->on_event(ev, s->r->event_arg);
}

static void
enter_killing(struct sup *s)
{
	struct event ev = { .kind = EV_KILLED, .cause = s->out->cause,
	    .grace = s->r->ctx->grace };
	size_t live = sweep_kill(&s->sweep, &ev);

	s->phase = PHASE_KILLING;
	if (live > 0 || ev.kind == EV_TREE_UNREADABLE)
		emit(s, &ev);
	/* A process forked just before its parent died is re-parented to us
	 * without a SIGCHLD: look again soon, backing off, while any lived. */
	if (live == 0) {
		s->wake = CTX_NEVER;
		return;
	}
	s->recheck_delay = s->recheck_delay == 0 ? 10 * NS_PER_MS :
	    s->recheck_delay >= NS_PER_SEC / 2 ? NS_PER_SEC : s->recheck_delay * 2;
	s->wake = time_add(mono_now(), s->recheck_delay);
}

/* The first signal to the tree (nested ctxruns told), and the grace
 * period starts. */
void
first_signal(struct sup *s)
{
	struct msg tell = done_message(s);
	tell.kind = MSG_DONE;
	struct event ev = { .kind = EV_SIGNALLED, .cause = s->out->cause,
	    .attempt_timed_out = s->out->attempt_timed_out };
	sweep_first(&s->sweep, s->out->cause == DONE_SIGNAL ? s->out->signal :
	    s->p->first_signal, &tell, &ev);
	emit(s, &ev);
	s->phase = PHASE_SIGNALLED;
	int64_t grace = s->r->ctx->grace, now = mono_now();
	/* Nested, the hook's time comes out of the grace: the enclosing
	 * ctxrun's KILL comes at its own time, hook or not. */
	if (s->out->hook.ran && ctx_nested(s->r->ctx)) {
		grace -= now - s->hook.start;
		grace = grace < 0 ? 0 : grace;
	}
	s->wake = time_add(now, grace);
}

void
begin_done(struct sup *s, enum done_cause cause, int received)
{
	if (s->phase == PHASE_WAITING) {
		/* Between attempts: the run ends at once, as if an attempt
		 * had been running. */
		s->out->cause = cause;
		s->out->signal = received;
		s->out->started = false;
		s->out->command_alive_at_done = true;
		s->att.final = true;
		s->phase = PHASE_DONE;
		return;
	}
	if (s->phase != PHASE_RUNNING)
		return;
	s->out->cause = cause;
	s->out->attempt_timed_out = cause == DONE_DEADLINE &&
	    ctx_deadline(s->r->ctx) < s->att.run_deadline;
	s->out->signal = received;
	s->out->command_alive_at_done = s->cmd_running;
	/* A deadline passed: first a look at the tree as it is, if asked. */
	if ((cause == DONE_DEADLINE || cause == DONE_IDLE) && s->r->on_timeout != NULL &&
	    start_hook(s) == 0)
		return;
	first_signal(s);
}

void
reap(struct sup *s)
{
	siginfo_t si;

	for (;;) {
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) == -1 || si.si_pid == 0)
			break;
		if (si.si_pid == s->cmd) {
			s->cmd_running = false;
			s->out->command_code = si.si_code;
			s->out->command_status = si.si_status;
		}
		if (si.si_pid == s->hook.pid && s->hook.running) {
			s->hook.running = false;
			s->sweep.outside = 0;
			s->out->hook.code = si.si_code;
			s->out->hook.status = si.si_status;
		}
	}
}

#define PARENT_WORD_MARGIN (100 * NS_PER_MS)

/* RUNNING: the deadline, the idle clock and the warnings; the next wake-up
 * is the earliest of them. */
static void
running(struct sup *s, int64_t now)
{
	int64_t deadline = ctx_deadline(s->r->ctx), idle_at = CTX_NEVER;
	if (s->idle.relaying) {
		/* Blocked on a reader downstream is not silence. */
		if (relay_stalled(&s->idle.relay))
			s->idle.last_output = now;
		idle_at = time_add(s->idle.last_output, s->r->idle_timeout);
	}
	int64_t warn_at = warn(s, deadline, now);
	/* The deadline of an enclosing ctxrun with a hook: that ctxrun
	 * tells this one when its hook has looked at the tree, this
	 * subtree included (or signals it, not registered); this one's
	 * own timer waits that long. */
	const struct ctx *owner = ctx_deadline_owner(s->r->ctx);
	if (owner != s->r->ctx && owner->hook_limit > 0 &&
	    !s->nest.parent_detached && deadline != CTX_NEVER)
		deadline = time_add(deadline, owner->hook_limit);
	/* The deadline of an enclosing ctxrun we are registered with:
	 * that one decides, and tells this one first.  Were both to
	 * wake at the same instant, this one could end its tree and
	 * exit before the other woke, which would then see COMMAND
	 * exit 124 and never name its deadline.  This one's own timer
	 * is the fallback, for an enclosing ctxrun that cannot act. */
	else if (owner != s->r->ctx && s->nest.parent_fd >= 0 &&
	    !s->nest.parent_detached && deadline != CTX_NEVER)
		deadline = time_add(deadline, PARENT_WORD_MARGIN);
	if (deadline <= now)
		begin_done(s, DONE_DEADLINE, 0);
	else if (idle_at <= now)
		begin_done(s, DONE_IDLE, 0);
	else {
		s->wake = idle_at < deadline ? idle_at : deadline;
		s->wake = warn_at < s->wake ? warn_at : s->wake;
	}
}

/* After every wake-up: what the phase does now.  A wake-up for output
 * alone changed no child and no phase: only the idle time moved. */
void
advance(struct sup *s, bool output_only)
{
	if (s->phase == PHASE_WAITING) {
		if (s->wake <= mono_now())
			s->phase = PHASE_DONE;
		return;
	}
	if (output_only && s->phase != PHASE_RUNNING && s->wake > mono_now())
		return;
	if (!s->cmd_running && !(output_only && s->phase == PHASE_RUNNING)) {
		if (s->sweep.tree->empty()) {
			s->phase = PHASE_DONE;
			return;
		}
		if (s->phase == PHASE_RUNNING) {
			if (s->p->leftovers == LEFTOVERS_LEAVE) {
				s->phase = PHASE_DONE;
				return;
			}
			if (s->p->leftovers == LEFTOVERS_CANCEL)
				begin_done(s, DONE_COMMAND_EXITED, 0);
		} else if (s->r->ctx->grace == CTX_NEVER &&
		    s->p->leftovers == LEFTOVERS_LEAVE) {
			/* No KILL will come for what ignored the signal. */
			s->phase = PHASE_DONE;
			return;
		}
	}
	int64_t now = mono_now();
	switch (s->phase) {
	case PHASE_RUNNING:
		running(s, now);
		break;
	case PHASE_HOOK:
		if (!s->hook.running || s->wake <= now)
			end_hook(s);
		break;
	case PHASE_SIGNALLED:
		if (s->wake <= now)
			enter_killing(s);
		break;
	case PHASE_KILLING:
		/* Every exit may have re-parented a survivor; and look again
		 * when the back-off says so. */
		enter_killing(s);
		break;
	case PHASE_DONE:
	case PHASE_WAITING:
		break;
	}
}

/* A walk holds a few descriptors, a burst one pidfd per process, and the
 * registry one per connected peer: raise a low soft limit for ctxrun itself
 * (COMMAND gets the caller's back), and refuse one too low to work with. */
#define BURST_MAX 256
#define FDS_WANTED 4096

static int
setup_descriptors(struct sup *s)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &s->nest.nofile) == -1)
		return -1;
	r = s->nest.nofile;
	if (r.rlim_cur < FDS_WANTED && r.rlim_max > r.rlim_cur) {
		r.rlim_cur = r.rlim_max < FDS_WANTED ? r.rlim_max : FDS_WANTED;
		if (setrlimit(RLIMIT_NOFILE, &r) == 0)
			s->nest.nofile_raised = true;
		else
			r = s->nest.nofile;
	}
	if (r.rlim_cur < FDS_NEEDED) {
		errno = EMFILE;
		return -1;
	}
	/*
	 * A budget, so that registered peers can never leave the tree walk
	 * without descriptors: about 10 are ctxrun's own, a walk needs a few;
	 * of the rest half may be pidfds held in a burst, a quarter peers
	 * (more are refused).
	 */
	size_t spare = r.rlim_cur > 12 ? r.rlim_cur - 12 : 1;
	s->sweep.burst_max = spare / 2 < BURST_MAX ? (spare / 2 ? spare / 2 : 1) : BURST_MAX;
	s->nest.max_peers = spare / 4 ? spare / 4 : 1;
	return 0;
}

int
start_command(struct sup *s)
{
	const struct policy *p = s->p;
	struct spawn_attr attr = {
		.child_mask = &s->sig.orig_mask,
		.child_default = &s->sig.child_default,
		.restore_sigchld_ign = s->sig.sigchld_was_ignored,
		.new_pgrp = !s->term.shares_group,
		.deathsig = p->first_signal,
		.nofile = s->nest.nofile_raised ? &s->nest.nofile : NULL,
		.stdin_fd = s->att.replay_fd,
		.stdout_fd = s->idle.relaying ? s->idle.relay.tree_fd[STDOUT_FILENO] : -1,
		.stderr_fd = s->idle.relaying ? s->idle.relay.tree_fd[STDERR_FILENO] : -1,
		.exec_path = s->att.exec_path,
		.exec_path_len = sizeof(s->att.exec_path),
	};
	int err;

	if (s->att.replay_fd >= 0 && lseek(s->att.replay_fd, 0, SEEK_SET) == -1) {
		s->out->failure = RUN_SETUP;
		s->out->err = errno;
		return -1;
	}
	s->cmd = spawn_command(s->r->argv, &attr, &err);
	if (s->cmd < 0) {
		s->out->failure = err == 0 ? RUN_FORK : RUN_EXEC;
		s->out->err = err == 0 ? errno : err;
		return -1;
	}
	s->cmd_running = true;
	s->out->started = true;
	s->idle.last_output = mono_now();
	s->sweep.outside_pgrp = 0;
	s->hook.cut_by = 0;
	warnings_for_attempt(s);
	s->sweep.command = s->cmd;
	return 0;
}

void
supervise(const struct run *r, struct outcome *out)
{
	struct sup s = { .r = r, .p = r->policy, .out = out, .term.tty = -1,
	    .nest.parent_fd = -1, .wake = CTX_NEVER, .att.replay_fd = -1 };
	const struct policy *p = r->policy;

	memset(out, 0, sizeof(*out));
	s.idle.relay.ch[0].src = s.idle.relay.ch[1].src = -1;
	s.idle.relay.ch[0].tree_end = s.idle.relay.ch[1].tree_end = -1;
	s.idle.relay.ch[0].sink = s.idle.relay.ch[1].sink = -1;
	s.nest.reg.listen_fd = -1;
	s.nest.reg.reserve_fd = -1;
	s.sig.fd = -1;
	s.self = getpid();
	s.sweep.tree = &tree_proc;
	s.sweep.self = s.self;
	s.sweep.reg = &s.nest.reg;

	/* GNU timeout runs in a process group of its own, with COMMAND. */
	if (p->own_pgrp && !p->foreground)
		setpgid(0, 0);
	/* With a controlling terminal (whatever fds 0-2 are), COMMAND stays in
	 * ctxrun's process group: where the shell's job control puts ctxrun,
	 * foreground or background, then fg, COMMAND is too, and it can read
	 * the terminal or /dev/tty without being stopped. */
	s.term.tty = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	s.term.shares_group = p->foreground || p->own_pgrp || s.term.tty >= 0;
	s.sweep.shares_group = s.term.shares_group;

	if (setup_descriptors(&s) == -1) {
		out->failure = RUN_FD_LIMIT;
		out->err = (int)s.nest.nofile.rlim_cur;
		goto end;
	}
	if (signals_catch(&s.sig, p) == -1 || prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    registry_open(&s.nest.reg, s.nest.max_peers) == -1 || export_context(&s) == -1) {
		out->failure = RUN_SETUP;
		out->err = errno;
		goto end;
	}
	s.idle.relaying = r->idle_timeout != CTX_NEVER && r->idle_timeout > 0;
	if (s.idle.relaying && relay_open(&s.idle.relay) == -1) {
		out->failure = RUN_SETUP;
		out->err = errno;
		goto end;
	}
	/* A program killed with the terminal in raw mode cannot put it back:
	 * ctxrun does, when it was the one to end it. */
	if (s.idle.relaying && relay_terminal(&s.idle.relay) >= 0)
		s.term.saved = tcgetattr(relay_terminal(&s.idle.relay), &s.term.modes) == 0;
	if (register_with_parent(&s) == 1)
		goto end;
	attempts(&s);
	if (s.term.saved && out->cause != DONE_NOT_YET)
		restore_terminal(&s);
	/* Leaving leftovers running (GNU timeout): nested ctxruns among them
	 * must not take our exit for a kill. */
	for (size_t i = 0; i < s.nest.reg.npeers; i++)
		if (s.nest.reg.peers[i].nested)
			(void)msg_send(s.nest.reg.peers[i].fd, MSG_DETACH, NULL);
end:
	registry_close(&s.nest.reg);
	if (s.nest.parent_fd >= 0)
		close(s.nest.parent_fd);
	if (s.sig.fd >= 0)
		close(s.sig.fd);
	if (s.term.tty >= 0)
		close(s.term.tty);
	if (s.att.replay_fd >= 0)
		close(s.att.replay_fd);
	drop_owned(&s.att.env_ctx);
	drop_owned(&s.att.env_attempt);
	relay_close(&s.idle.relay);
}
