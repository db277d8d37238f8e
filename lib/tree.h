/*
 * The process tree under a subreaper, read from /proc (tree.c).
 * Private to lib/: cmd/ uses lib/ctxrun.h only.
 */
#ifndef CTXRUN_TREE_H
#define CTXRUN_TREE_H

#include "ctxrun.h"

struct proc {
	pid_t pid, ppid, pgrp;
	char state;             /* from /proc/PID/stat: R S D T t Z ... */
	bool alive;             /* not yet a zombie: a leader whose main thread
	                         * exited shows Z while its threads run */
	int pidfd;              /* pins the process while it is visited */
	bool ctxrun;            /* runs this program: a ctxrun or a subcommand */
};

/* Calls visit for every descendant of self, parents before children.
 * visit returns false to skip a process's subtree; it may keep p->pidfd by
 * setting it to -1 in p (then closing it is its business). */
typedef bool (*visit_fn)(struct proc *p, void *arg);

/*
 * How the tree below a ctxrun is found and signalled.  The sweeps
 * (sweep.c) and the supervisor reach the tree only through this, so that
 * another way to find it (a cgroup of its own) can sit beside the /proc
 * walk without touching them.
 */
struct tree_ops {
	const char *name;
	/* Whether this way can read the tree here (/proc of our PID
	 * namespace, for the walk). */
	bool (*usable)(void);
	/* Calls visit for every member below self, parents before children.
	 * visit returns false to skip a process's subtree; it may keep
	 * p->pidfd by setting it to -1 in p (then closing it is its
	 * business).  -1 with errno when the tree cannot be read; 1 when a
	 * process met was dead or gone (its children may have moved to where
	 * the walk had already been); 0 when every process met was alive. */
	int (*walk)(pid_t self, visit_fn visit, void *arg);
	/* Signals a member being visited (through its pidfd: never a reused
	 * PID). */
	int (*signal)(const struct proc *p, int sig);
	/* Whether pid is a member of self's tree. */
	bool (*contains)(pid_t self, pid_t pid);
	/* Whether nothing of the tree is left to reap. */
	bool (*empty)(void);
	/* The newest process so far, by its PID (PIDs are handed out in
	 * order until they wrap): a process with a greater one was born
	 * after this call.  0 when unknown. */
	pid_t (*last_pid)(void);
};

/* The first implementation: /proc/PID/task/TID/children, from ctxrun, the
 * child subreaper of everything it starts. */
extern const struct tree_ops tree_proc;

/* The state letter of pid from /proc/PID/stat, 0 if it is gone. */
char proc_state(pid_t pid);

#endif
