/*
 * The supervisor's private state, shared by the files of lib/ that make it
 * up: supervise.c (the phases), loop.c (the one wait), and one module per
 * feature (module.h).  Each
 * feature keeps its fields in a struct of its own here, so that what a
 * feature touches can be read off its name: s->hook.limit, s->nest.reg.
 * Nothing outside lib/ includes this header.
 */
#ifndef CTXRUN_SUP_H
#define CTXRUN_SUP_H

#include <sys/resource.h>
#include <termios.h>

#include "core.h"
#include "ctxrun.h"
#include "supervise.h"
#include "relay.h"
#include "signals.h"
#include "spawn.h"
#include "sweep.h"


/* COMMAND, this attempt's. */
struct sup_command {
	pid_t pid;
	bool running;
	bool reaped_now;                /* in this wake-up: advance() takes it */
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
	int64_t at;                     /* when the clock runs out, as last seen */
	size_t polled[4];               /* the channel of each descriptor polled */
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
	pid_t self;
	struct sup_command command;
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
/* An event (core.h) in the current phase: does what the table says; true
 * if that was anything.  cause and sig: what ends the context, for
 * CE_DEADLINE, CE_CANCEL and CE_SIGNAL. */
bool core_event(struct sup *s, enum core_event e, enum done_cause cause, int sig);
void advance(struct sup *s, bool output_only);
int start_command(struct sup *s);

/* loop.c: one wait on every module (module.h), then advance(). */
void loop(struct sup *s);

/* attempts.c */
void attempts(struct sup *s);

/* hook.c */
int start_hook(struct sup *s);
void end_hook(struct sup *s);

/* idle.c */
void continued(struct sup *s);
void drain_relay(struct sup *s);

/* terminal.c */
void open_terminal(struct sup *s);
void save_terminal(struct sup *s);

/* nesting.c */
struct msg done_message(const struct sup *s);
int wait_before_start(struct sup *s, int fd);
int register_with_parent(struct sup *s);
bool peer_is_member(void *arg, pid_t pid);

/* warn.c */
void warnings_for_attempt(struct sup *s);

/* ctxenv.c: the one writer of the CTXRUN_* variables. */
int put_owned(char **slot, const char *name, const char *value);
void drop_owned(char **slot);
int export_context(struct sup *s);
int export_attempt(struct sup *s, unsigned n);
void export_hook(struct sup *s, const char *pids);
void unexport_hook(struct sup *s);

#endif
