/* Sweeps of the tree below a ctxrun: the supervisor's internals. */
#ifndef CTXRUN_SWEEP_H
#define CTXRUN_SWEEP_H

#include "ctxrun.h"
#include "registry.h"
#include "tree.h"

struct sweep {
	const struct tree_ops *tree;
	pid_t self;
	pid_t command;          /* for the fallback without /proc */
	bool shares_group;      /* COMMAND is in ctxrun's process group */
	struct registry *reg;   /* nested ctxruns are told, not signalled */
	size_t burst_max;       /* pidfds held at once, within the fd limit */
	pid_t outside;          /* not of the tree: the --on-timeout hook */
	pid_t outside_pgrp;     /* ... and its process group, killed */
};

/* The first signal, once to every process of the tree; nested ctxruns are
 * sent tell (NULL: signalled like the others).  Fills ev's counts. */
void sweep_first(struct sweep *s, int sig, const struct msg *tell, struct event *ev);
/* A signal the terminal sent to its foreground group fg: to every process
 * of the tree outside fg, and to nested ctxruns outside fg as a message. */
void sweep_terminal(struct sweep *s, int sig, pid_t fg, struct event *ev);
/* A received signal passed on to every process of the tree; a nested ctxrun
 * gets it itself and deals with its own subtree. */
void sweep_forward(struct sweep *s, int sig, struct event *ev);
/* KILL to everything alive; returns how many were. */
size_t sweep_kill(struct sweep *s, struct event *ev);

#endif
