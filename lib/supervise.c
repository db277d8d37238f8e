/*
 * Supervising COMMAND and its whole tree: one run is a small state machine.
 *
 *   RUNNING    wakes at the effective deadline (modules wake it too: the
 *              idle clock, a --warn signal due)
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
 * the tree comes back to it, and no child left means no tree left.
 *
 * What each event does in each phase is a table (core.c); this file does
 * the table's actions and turns what happened after a wake-up into its
 * events (advance()).  The one wait is in loop.c, and each feature is a
 * module of its own (module.h lists them).  This file decides; it does not
 * speak: what happened goes back to the front end as events and an
 * outcome.
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

#include "internal.h"
#include "module.h"
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

/* CA_END: the context is done; first a look at the tree as it is, if a
 * deadline passed and a hook was asked for. */
static void
end_context(struct sup *s, enum done_cause cause, int received)
{
	s->out->cause = cause;
	s->out->attempt_timed_out = cause == DONE_DEADLINE &&
	    ctx_deadline(s->r->ctx) < s->att.run_deadline;
	s->out->signal = received;
	s->out->command_alive_at_done = s->command.running;
	if ((cause == DONE_DEADLINE || cause == DONE_IDLE) && s->r->on_timeout != NULL &&
	    start_hook(s) == 0)
		return;
	first_signal(s);
}

/* CA_END_WAIT: between attempts, the run ends at once, as if an attempt
 * had been running. */
static void
end_wait(struct sup *s, enum done_cause cause, int received)
{
	s->out->cause = cause;
	s->out->signal = received;
	s->out->started = false;
	s->out->command_alive_at_done = true;
	s->att.final = true;
	s->phase = PHASE_DONE;
}

/* CA_LEFTOVERS: COMMAND exited and some of its tree lives on. */
static void
leftovers(struct sup *s)
{
	if (s->phase == PHASE_RUNNING) {
		if (s->p->leftovers == LEFTOVERS_LEAVE)
			s->phase = PHASE_DONE;
		else if (s->p->leftovers == LEFTOVERS_CANCEL)
			end_context(s, DONE_COMMAND_EXITED, 0);
	} else if (s->r->ctx->grace == CTX_NEVER && s->p->leftovers == LEFTOVERS_LEAVE) {
		/* No KILL will come for what ignored the signal. */
		s->phase = PHASE_DONE;
	}
}

/* CA_FINAL: a final cause after the attempt had ended (its hook, its
 * grace, its KILL): the attempt ends as it is ending, with the status it
 * gets, and none follows it; the line that says so names the cause. */
static void
make_final(struct sup *s, enum done_cause cause, int sig)
{
	char name[16];

	s->out->asked.never = true;
	if (s->out->asked.cause[0] != '\0')
		return;
	if (cause == DONE_SIGNAL)
		snprintf(s->out->asked.cause, sizeof(s->out->asked.cause),
		    "ctxrun received %s", signal_name(sig, name, sizeof(name)));
	else if (cause == DONE_CANCEL)
		strlcpy(s->out->asked.cause, "ctxrun cancel", sizeof(s->out->asked.cause));
	else
		strlcpy(s->out->asked.cause, "the enclosing context is done",
		    sizeof(s->out->asked.cause));
}

bool
core_event(struct sup *s, enum core_event e, enum done_cause cause, int sig)
{
	switch (core_action(s->phase, e)) {
	case CA_NONE:
	case CA_COUNT:
		return false;
	case CA_END:
		end_context(s, cause, sig);
		break;
	case CA_END_WAIT:
		end_wait(s, cause, sig);
		break;
	case CA_FINAL:
		make_final(s, cause, sig);
		break;
	case CA_CUT_HOOK:
		s->wake = 0;	/* no more waiting for the hook */
		s->hook.cut_by = sig;
		make_final(s, cause, sig);
		break;
	case CA_END_HOOK:
		end_hook(s);
		break;
	case CA_KILL:
		enter_killing(s);
		break;
	case CA_LEFTOVERS:
		leftovers(s);
		break;
	case CA_DONE:
		s->phase = PHASE_DONE;
		break;
	}
	return true;
}

/* COMMAND's own end, for the outcome. */
static void
command_reaped(struct sup *s, const siginfo_t *si)
{
	if (si->si_pid != s->command.pid || !s->command.running)
		return;
	s->command.running = false;
	s->command.reaped_now = true;
	s->out->command_code = si->si_code;
	s->out->command_status = si->si_status;
}

const struct module command_module = {
	.name = "command",
	.reaped = command_reaped,
};

/* RUNNING's deadline: the context's own, or later by an enclosing
 * ctxrun's hook, which looks at the tree (this subtree included) before
 * anything is signalled.
 *
 * An inherited deadline is the same monotonic instant at every level, so
 * the levels of a nest wake together and end their subtrees side by side
 * rather than one after the other as each is told.  Which one exits first
 * does not matter: one that sees its COMMAND exit once its own deadline
 * has passed names the deadline (advance() looks at it first). */
static int64_t
running_deadline(const struct sup *s)
{
	int64_t deadline = ctx_deadline(s->r->ctx);
	const struct ctx *owner = ctx_deadline_owner(s->r->ctx);

	if (owner == s->r->ctx || s->nest.parent_detached || deadline == CTX_NEVER)
		return deadline;
	if (owner->hook_limit > 0)
		return time_add(deadline, owner->hook_limit);
	return deadline;
}

/*
 * After every wake-up: what happened, as the core's events, in order.  A
 * wake-up for output alone changed no child and no phase: only the idle
 * clock moved, and that is its module's business.
 */
void
advance(struct sup *s, bool output_only)
{
	int64_t now = mono_now();
	bool reaped_now = s->command.reaped_now;

	s->command.reaped_now = false;
	if (output_only && s->wake > now)
		return;
	/* COMMAND's exit and the deadline seen in one wake-up (ctxrun was
	 * stopped, or slow to be woken): as far as anyone can tell the
	 * deadline came first, and the status says so, as GNU timeout's
	 * does. */
	if (reaped_now && s->phase == PHASE_RUNNING && running_deadline(s) <= now) {
		core_event(s, CE_DEADLINE, DONE_DEADLINE, 0);
		s->out->command_alive_at_done = true;
	}
	if (!s->command.running) {
		if (s->sweep.tree->empty() && core_event(s, CE_TREE_EMPTY, 0, 0))
			return;
		core_event(s, CE_COMMAND_EXITED, 0, 0);
		if (s->phase == PHASE_DONE)
			return;
	}
	if (s->phase == PHASE_RUNNING) {
		if (running_deadline(s) <= now)
			core_event(s, CE_DEADLINE, DONE_DEADLINE, 0);
		else
			s->wake = running_deadline(s);
		return;
	}
	if (modules_finished(s) && core_event(s, CE_MODULE_FINISHED, 0, 0))
		return;
	if (s->wake <= now && core_event(s, CE_TIMER, 0, 0))
		return;
	if (!output_only)
		core_event(s, CE_REAPED, 0, 0);
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
	 * (more are refused), each with its socket and its pidfd.
	 */
	size_t spare = r.rlim_cur > 12 ? r.rlim_cur - 12 : 1;
	s->sweep.burst_max = spare / 2 < BURST_MAX ? (spare / 2 ? spare / 2 : 1) : BURST_MAX;
	s->nest.max_peers = spare / 8 > VISITORS_MAX ? spare / 8 - VISITORS_MAX : 1;
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
	s->command.pid = spawn_command(s->r->argv, &attr, &err);
	if (s->command.pid < 0) {
		s->out->failure = err == 0 ? RUN_FORK : RUN_EXEC;
		s->out->err = err == 0 ? errno : err;
		return -1;
	}
	s->command.running = true;
	s->out->started = true;
	s->idle.last_output = mono_now();
	s->sweep.outside_pgrp = 0;
	s->hook.cut_by = 0;
	warnings_for_attempt(s);
	s->sweep.command = s->command.pid;
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
	open_terminal(&s);

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
	s.nest.reg.is_member = peer_is_member;
	s.nest.reg.is_member_arg = &s;
	s.idle.relaying = r->idle_timeout != CTX_NEVER && r->idle_timeout > 0;
	if (s.idle.relaying && relay_open(&s.idle.relay) == -1) {
		out->failure = RUN_SETUP;
		out->err = errno;
		goto end;
	}
	save_terminal(&s);
	if (register_with_parent(&s) == 0)
		attempts(&s);
end:
	modules_close(&s);
}
