/*
 * The supervisor's private state, shared by the files of lib/ that make it
 * up: supervise.c (the phases), loop.c (the one wait), and one file per
 * feature (attempts, hook, idle, nesting, received, warn, ctxenv).  Each
 * feature keeps its fields in a struct of its own here, so that what a
 * feature touches can be read off its name: s->hook.limit, s->nest.reg.
 * Nothing outside lib/ includes this header.
 */
#ifndef CTXRUN_SUP_H
#define CTXRUN_SUP_H

#include <sys/resource.h>
#include <termios.h>

#include "ctxrun.h"
#include "relay.h"
#include "signals.h"
#include "spawn.h"
#include "sweep.h"

enum phase {
	PHASE_RUNNING, PHASE_HOOK, PHASE_SIGNALLED, PHASE_KILLING, PHASE_DONE,
	PHASE_WAITING,          /* between attempts: nothing runs */
};

/* The terminal ctxrun was started on, if any. */
struct sup_terminal {
	int tty;                        /* the controlling terminal, or -1 */
	bool shares_group;              /* COMMAND in ctxrun's process group */
	struct termios modes;           /* the real terminal's, at the start */
	bool saved;
};

/* The registry (nested ctxruns, cancel, retry) and the enclosing ctxrun. */
struct sup_nesting {
	struct registry reg;
	int parent_fd;                  /* connection to the enclosing ctxrun */
	bool parent_detached;
	size_t max_peers;               /* the registry's share of descriptors */
	struct rlimit nofile;           /* the caller's descriptor limit */
	bool nofile_raised;
};

/* Retries: what the attempts share, and what each one starts from. */
struct sup_attempts {
	int64_t run_deadline;           /* the run's effective deadline */
	bool final;                     /* WAITING ended by a cause: no retry */
	int replay_fd;                  /* --replay-stdin: what stdin held */
	char *env_ctx, *env_attempt;    /* our strings in the environment */
	char exec_path[4096];           /* where COMMAND was found */
	bool warned[MAX_WARNINGS];      /* --warn: sent (or skipped) this attempt */
};

/* --idle-timeout: the tree's output goes through ctxrun. */
struct sup_idle {
	bool relaying;
	struct relay relay;
	int64_t last_output;            /* when the tree last wrote */
};

/* --on-timeout, while it runs. */
struct sup_hook {
	pid_t pid;
	bool running;
	int64_t start, limit;
	int cut_by;                     /* a signal received cut it short */
};

struct sup {
	const struct run *r;
	const struct policy *p;
	struct outcome *out;
	pid_t self, cmd;
	bool cmd_running;
	struct caught_signals sig;
	struct sweep sweep;

	enum phase phase;
	int64_t wake;                   /* the one time the phase wakes at */
	int64_t recheck_delay;          /* KILLING: backs off while any lived */

	struct sup_terminal term;
	struct sup_nesting nest;
	struct sup_attempts att;
	struct sup_idle idle;
	struct sup_hook hook;
};

/* supervise.c: the phases. */
void emit(const struct sup *s, struct event *ev);
void first_signal(struct sup *s);
void begin_done(struct sup *s, enum done_cause cause, int received);
void reap(struct sup *s);
void advance(struct sup *s, bool output_only);
int start_command(struct sup *s);

/* loop.c: one wait on every source, then advance(). */
void loop(struct sup *s);

/* attempts.c */
void attempts(struct sup *s);

/* hook.c */
int start_hook(struct sup *s);
void end_hook(struct sup *s);

/* idle.c */
void output_failures(struct sup *s);
void continued(struct sup *s);
void drain_relay(struct sup *s);
void restore_terminal(struct sup *s);

/* nesting.c */
struct msg done_message(const struct sup *s);
void handle_peer(struct sup *s, struct peer *p, const struct msg *m);
void handle_parent(struct sup *s, const struct msg *m);
void parent_gone(struct sup *s);
int wait_before_start(struct sup *s, int fd);
int register_with_parent(struct sup *s);

/* received.c */
void handle_signal(struct sup *s, const struct received *rv);

/* warn.c */
int64_t warn(struct sup *s, int64_t deadline, int64_t now);
void warnings_for_attempt(struct sup *s);

/* ctxenv.c: the one writer of the CTXRUN_* variables. */
int put_owned(char **slot, const char *name, const char *value);
void drop_owned(char **slot);
int export_context(struct sup *s);
int export_attempt(struct sup *s, unsigned n);
void export_hook(struct sup *s, const char *pids);
void unexport_hook(struct sup *s);

#endif
