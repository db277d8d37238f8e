/*
 * Starting COMMAND (spawn.c).
 * Private to lib/: cmd/ uses lib/ctxrun.h only.
 */
#ifndef CTXRUN_SPAWN_H
#define CTXRUN_SPAWN_H

#include <signal.h>
#include "ctxrun.h"
#include "supervise.h"

struct spawn_attr {
	const sigset_t *child_mask;   /* the caller's mask, restored */
	const sigset_t *child_default;/* reset to SIG_DFL before exec */
	bool restore_sigchld_ign;     /* the caller ignored SIGCHLD */
	bool new_pgrp;                /* COMMAND in a process group of its own */
	int deathsig;                 /* PR_SET_PDEATHSIG, 0 for none */
	const struct rlimit *nofile;  /* the caller's, when ctxrun raised it */
	int stdin_fd;                 /* COMMAND's standard input, -1: ctxrun's */
	int stdout_fd, stderr_fd;     /* COMMAND's standard output and error,
	                               * -1: ctxrun's */
	char *exec_path;              /* where COMMAND was found last time, or
	                               * "": kept here; NULL: plain execvp */
	size_t exec_path_len;
	const char *program;          /* this file exactly, no PATH search
	                               * (the hook's /bin/sh); NULL: argv[0] */
};

/* Starts argv[0] (PATH search): returns the pid, or -1 with *exec_errno set
 * when exec failed (ENOENT and ENOTDIR mean "not found"), or -1 with
 * *exec_errno 0 and errno set when no process could be created. */
pid_t spawn_command(char *const argv[], const struct spawn_attr *a,
    int *exec_errno);

#endif
