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
int tree_walk(pid_t self, visit_fn visit, void *arg);
/* Whether /proc belongs to our PID namespace, so that the tree can be read. */
bool tree_proc_usable(void);
/* Signals a process being visited, through its pidfd. */
int tree_signal(const struct proc *p, int sig);
/* Whether pid is a descendant of self (follows the parents in /proc). */
bool tree_contains(pid_t self, pid_t pid);
/* The state letter of pid from /proc/PID/stat, 0 if it is gone. */
char proc_state(pid_t pid);

#endif
