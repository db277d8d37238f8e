/*
 * Sweeps: signalling the whole tree below ctxrun, read from /proc.
 *
 * The first signal goes once to every live process of the tree; nested
 * ctxruns are told instead (through the registry) and their subtrees left
 * to them.  KILL goes to everything, nested subtrees included, pass after
 * pass.  A terminal's signal goes only where the terminal did not send it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sweep.h"

/* The first signal goes out in bursts: a pass collects the pidfds of the
 * processes it finds, and they are signalled together at the end of it.
 * Signalling while walking would start hundreds of exits that compete for
 * the CPU with the walk itself, and re-parent children mid-walk. */
#define BURST 256
/* Processes fork while the tree is walked: walk again until a pass finds
 * nobody new, but not forever: a tree that keeps forking would keep ctxrun
 * busy, and what it forks from now on gets KILL at the end of the grace. */
#define MAX_FIRST_PASSES 4

struct pass {
	struct sweep *s;
	int sig;
	pid_t skip_pgrp;        /* already told by the terminal; 0: none */
	const struct msg *tell; /* what nested ctxruns are sent, if any */
	bool to_nested;         /* nested ctxruns get sig themselves */
	pid_t *seen;
	size_t nseen, capseen;
	size_t added;
	pid_t horizon;          /* the newest PID before the first signal */
	struct proc burst[BURST];
	size_t nburst;
	struct event *ev;
};

static bool
seen(const struct pass *ps, pid_t pid)
{
	for (size_t i = 0; i < ps->nseen; i++)
		if (ps->seen[i] == pid)
			return true;
	return false;
}

static int
remember(struct pass *ps, pid_t pid)
{
	if (ps->nseen == ps->capseen) {
		size_t cap = ps->capseen ? ps->capseen * 2 : 64;
		pid_t *v = reallocarray(ps->seen, cap, sizeof(*v));
		if (v == NULL)
			return -1;
		ps->seen = v;
		ps->capseen = cap;
	}
	ps->seen[ps->nseen++] = pid;
	return 0;
}

static void
flush_burst(struct pass *ps)
{
	/* The newest PID before the first signal goes out: what is born
	 * later is the tree's answer to it, not the tree it was for. */
	if (ps->horizon == 0 && ps->nburst > 0 && ps->sig != 0 &&
	    ps->s->tree->last_pid != NULL)
		ps->horizon = ps->s->tree->last_pid();
	for (size_t i = 0; i < ps->nburst; i++) {
		struct proc *p = &ps->burst[i];
		if (ps->sig != 0 && ps->s->tree->signal(p, ps->sig) == 0) {
			ps->ev->count++;
			/* A stopped process would not act on it until continued. */
			if (p->state == 'T' && ps->sig != SIGKILL && ps->sig != SIGCONT)
				ps->s->tree->signal(p, SIGCONT);
		}
		if (p->pidfd >= 0)
			close(p->pidfd);
	}
	ps->nburst = 0;
}

/* Tells a nested ctxrun, first thing, so that it passes the word on while
 * this one goes on.  Stopped by job control, it is then continued; held by
 * a debugger, or gone deaf, it cannot act: false, and its subtree is
 * signalled here like any other. */
static bool
tell_nested(struct pass *ps, struct peer *n)
{
	if (n->told)
		return !n->deaf;
	n->told = true;
	if (msg_send(n->fd, ps->tell->kind, ps->tell) == -1) {
		n->deaf = true;
		return false;
	}
	/* Read by PID while the pidfd says it lives: the state is its own. */
	char state = proc_state(n->pid);
	if (!peer_alive(n)) {
		n->deaf = true;	/* gone: what it leaves is ours to signal */
		return false;
	}
	if (state == 'T')
		(void)peer_signal(n, SIGCONT);
	else if (state == 't') {
		n->deaf = true;
		return false;
	}
	ps->ev->nested_told++;
	return true;
}

/*
 * Whether pid was handed out after the first signal went out: PIDs come in
 * order, from after the newest one up, wrapping at pid_max, so those
 * handed out since are the ones after `horizon` up to the newest now,
 * around the wrap if there was one.  The newest is read again when a
 * process not seen yet is met (it exists, so it is at most that), never
 * once per pass: what is born while a pass walks, the handler's cleanup
 * started as the walk goes, would be past a reading from the pass's start
 * and taken for the tree.
 */
static bool
born_after(const struct pass *ps, pid_t pid)
{
	if (ps->horizon <= 0 || ps->s->tree->last_pid == NULL)
		return false;
	pid_t newest = ps->s->tree->last_pid();
	if (newest <= 0 || newest == ps->horizon)
		return false;
	if (newest > ps->horizon)
		return pid > ps->horizon && pid <= newest;
	return pid > ps->horizon || pid <= newest;
}

static bool
visit_first(struct proc *p, void *arg)
{
	struct pass *ps = arg;
	struct peer *n = registry_nested(ps->s->reg, p->pid);

	if (p->pid == ps->s->outside ||
	    (ps->s->outside_pgrp != 0 && p->pgrp == ps->s->outside_pgrp))
		return false;	/* the hook and what it started */
	/* Born after the first signal went out: the tree's answer to it (a
	 * TERM handler's cleanup, its ctxrun cancel), not the tree it was
	 * for; KILL at the end of the grace still finds it. */
	if (ps->horizon > 0 && !seen(ps, p->pid) && born_after(ps, p->pid))
		return false;

	/* A nested ctxrun's subtree is its own to tell.  For a terminal's
	 * signal it was told, or got it from the terminal itself. */
	if (n != NULL && ps->to_nested) {
		if (!seen(ps, p->pid) && remember(ps, p->pid) == 0 &&
		    ps->s->tree->signal(p, ps->sig) == 0)
			ps->ev->count++;
		return false;
	}
	if (n != NULL && (ps->tell == NULL || tell_nested(ps, n)))
		return false;
	/* A ctxrun that is not registered (not yet: its parent was killed
	 * and it is registering here; or it could not reach us) still
	 * passes the signal on to its own subtree: signalled itself, its
	 * subtree left to it, so that nothing gets the signal twice. */
	if (n == NULL && p->ctxrun && ps->sig != SIGKILL) {
		if (!seen(ps, p->pid) && remember(ps, p->pid) == 0) {
			ps->added++;
			if (ps->skip_pgrp == 0 || p->pgrp != ps->skip_pgrp) {
				ps->burst[ps->nburst++] = *p;
				p->pidfd = -1;
				if (ps->nburst == ps->s->burst_max)
					flush_burst(ps);
			}
		}
		return false;
	}
	if (seen(ps, p->pid) || remember(ps, p->pid) == -1)
		return true;
	ps->added++;
	if (ps->skip_pgrp != 0 && p->pgrp == ps->skip_pgrp)
		return true;	/* the terminal told it */
	ps->burst[ps->nburst++] = *p;
	p->pidfd = -1;		/* ours now, closed by flush_burst */
	if (ps->nburst == ps->s->burst_max)
		flush_burst(ps);
	return true;
}

/*
 * Whether the first pass saw the whole tree as it was: every process it met
 * alive (none died and left children where the walk had been) and no PID
 * handed out between its start and its end (no fork, here or anywhere in
 * the PID namespace).  Then a second walk would find nobody new, and on a
 * quiet machine the sweep costs one walk instead of two.
 */
static bool
walk_settled(const struct pass *ps, int rc, pid_t before)
{
	return rc == 0 && before > 0 && ps->s->tree->last_pid() == before;
}

static void
walk_passes(struct pass *ps)
{
	int passes = 0;
	pid_t before = ps->s->tree->last_pid != NULL ? ps->s->tree->last_pid() : 0;

	do {
		ps->added = 0;
		int rc = ps->s->tree->walk(ps->s->self, visit_first, ps);
		flush_burst(ps);
		if (rc == -1) {
			ps->ev->kind = EV_TREE_UNREADABLE;
			ps->ev->err = errno;
			break;
		}
		if (passes == 0 && walk_settled(ps, rc, before))
			break;
	} while (ps->added > 0 && ++passes < MAX_FIRST_PASSES);
	free(ps->seen);
}

/* Without a /proc of our PID namespace: as PID 1 of a namespace, the tree is
 * every other process of it; elsewhere only COMMAND's group can be reached. */
static void
signal_without_proc(struct sweep *s, int sig)
{
	kill(s->self == 1 ? -1 : (s->shares_group ? s->command : -s->command), sig);
}

void
sweep_first(struct sweep *s, int sig, const struct msg *tell, struct event *ev)
{
	struct pass ps = { .s = s, .sig = sig, .tell = tell, .ev = ev };

	ev->sig = sig;
	if (!s->tree->usable()) {
		if (sig != 0)
			signal_without_proc(s, sig);
		return;
	}
	/* The registry first: a nested ctxrun is told before its subtree is
	 * walked, and passes the word on while this one walks. */
	for (size_t i = 0; tell != NULL && i < s->reg->npeers; i++) {
		if (s->reg->peers[i].nested)
			tell_nested(&ps, &s->reg->peers[i]);
	}
	walk_passes(&ps);
}

void
sweep_terminal(struct sweep *s, int sig, pid_t fg, struct event *ev)
{
	struct pass ps = { .s = s, .sig = sig, .skip_pgrp = fg, .ev = ev };
	struct msg m = { .signal = sig, .fg_pgrp = fg };

	ev->sig = sig;
	if (!s->tree->usable())
		return;
	/* A nested ctxrun outside the terminal's group is told; inside it, it
	 * got the signal itself.  Either way its subtree is its own. */
	for (size_t i = 0; i < s->reg->npeers; i++) {
		struct peer *n = &s->reg->peers[i];
		if (n->nested && getpgid(n->pid) != fg && peer_alive(n) &&
		    msg_send(n->fd, MSG_TERMINAL_SIGNAL, &m) == 0)
			ev->nested_told++;
	}
	walk_passes(&ps);
}

void
sweep_forward(struct sweep *s, int sig, struct event *ev)
{
	struct pass ps = { .s = s, .sig = sig, .to_nested = true, .ev = ev };

	ev->sig = sig;
	if (!s->tree->usable()) {
		signal_without_proc(s, sig);
		return;
	}
	walk_passes(&ps);
}

struct kill_pass {
	const struct tree_ops *tree;
	size_t live;
};

static bool
visit_kill(struct proc *p, void *arg)
{
	struct kill_pass *kp = arg;

	if (p->alive) {
		kp->tree->signal(p, SIGKILL);
		kp->live++;
	}
	return true;
}

size_t
sweep_kill(struct sweep *s, struct event *ev)
{
	struct kill_pass kp = { .tree = s->tree };

	ev->sig = SIGKILL;
	if (!s->tree->usable()) {
		signal_without_proc(s, SIGKILL);
		return 1;	/* cannot count: look again until no child is left */
	}
	if (s->tree->walk(s->self, visit_kill, &kp) == -1) {
		ev->kind = EV_TREE_UNREADABLE;
		ev->err = errno;
		ev->count = kp.live;
		return kp.live ? kp.live : 1;	/* unknown: look again */
	}
	ev->count = kp.live;
	return kp.live;
}
