/*
 * The registry: how the processes of a tree talk to their ctxrun (registry.c).
 * Private to lib/: cmd/ uses lib/ctxrun.h only.
 */
#ifndef CTXRUN_REGISTRY_H
#define CTXRUN_REGISTRY_H

#include "ctxrun.h"
#include "supervise.h"

/*
 * Every ctxrun listens on an abstract SOCK_SEQPACKET socket
 * "\0ctxrun-TOKEN".  A nested ctxrun connects before it starts its COMMAND
 * and stays connected: its registration cannot be lost, each side sees the
 * other go away, and the kernel gives the peer's pid and uid.  `ctxrun
 * cancel` connects, asks, and waits for the answer.
 */
enum msg_kind {
	MSG_REGISTER = 1,       /* nested ctxrun -> parent: I supervise a subtree */
	MSG_CANCEL,             /* ctxrun cancel -> ctxrun: status, text = cause */
	MSG_ACK,                /* ctxrun -> peer: accepted */
	MSG_REFUSED,            /* ctxrun -> peer: refused, text = why */
	MSG_DONE,               /* parent -> nested: the parent is done: cause, signal */
	MSG_TERMINAL_SIGNAL,    /* parent -> nested: the terminal sent signal to fg_pgrp */
	MSG_DETACH,             /* parent -> nested: exiting, leaving you running */
	MSG_RETRY,              /* ctxrun retry -> ctxrun: status = RETRY_*, after */
};

/* What `ctxrun retry` asks of the attempt that is running. */
enum { RETRY_NEVER = 1, RETRY_AFTER = 2 };

struct msg {
	uint32_t version;       /* MSG_VERSION: peers of another build refuse */
	uint32_t kind;          /* enum msg_kind */
	int32_t status;         /* CANCEL: the exit status asked for */
	int32_t cause;          /* DONE: enum done_cause */
	int32_t signal;         /* DONE (cause signal), TERMINAL_SIGNAL */
	int32_t fg_pgrp;        /* TERMINAL_SIGNAL: the group the terminal told */
	int64_t after;          /* RETRY (RETRY_AFTER): the wait, ns */
	char text[256];         /* CANCEL, RETRY: the cause; REFUSED: why */
};
#define MSG_VERSION 0x63747832u /* "ctx2" */

/*
 * A peer is pinned when it connects: a pidfd on the process that connected
 * (SO_PEERPIDFD), through which every later decision about it is made, so
 * that a PID handed on to another process is never taken for it.  It is
 * judged then too: a process of the tree (a member), or a visitor of our
 * user or root from outside it; anyone else is refused at once.
 */
struct peer {
	int fd;
	int pidfd;              /* the process that connected */
	pid_t pid;              /* its PID: names it only while peer_alive() */
	uid_t uid;
	bool member;            /* a process of the tree, judged at connect */
	unsigned long seq;      /* order of connection: visitors make way oldest first */
	bool nested;            /* registered: its subtree is its own to signal */
	bool told;              /* sent MSG_DONE */
	bool deaf;              /* cannot act on it (debugger): signalled instead */
};

struct registry {
	int listen_fd;
	int reserve_fd;         /* /dev/null, given up to refuse a peer */
	char token[33];
	struct peer *peers;
	size_t npeers, cap;
	size_t max_peers;       /* members: more are accepted only to be refused */
	size_t nmembers, nvisitors;
	unsigned long seq;
	/* Whether a process is of the tree: decided by the supervisor. */
	bool (*is_member)(void *arg, pid_t pid);
	void *is_member_arg;
};

/* Visitors connected at once; a new one makes the oldest one go.  They
 * take no member's place: nobody outside the tree can fill the registry. */
#define VISITORS_MAX 8

/* At most max_peers members connected at once (0: no limit); more are
 * refused.  Each peer holds two descriptors (its socket and its pidfd). */
int registry_open(struct registry *r, size_t max_peers);
void registry_close(struct registry *r);
/* Accepts every pending connection; -1 only on a real error. */
int registry_accept(struct registry *r);
/* Reads one message of peer i without blocking: 1 with a message, 0 when
 * none is queued, -1 when the peer has gone (then call registry_drop). */
int registry_recv(struct registry *r, size_t i, struct msg *m);
void registry_drop(struct registry *r, size_t i);
/* The registered nested ctxrun that is the live process pid, if any. */
struct peer *registry_nested(struct registry *r, pid_t pid);
/* Whether the process that connected still lives (a zombie not yet reaped
 * counts: its PID is not handed on before). */
bool peer_alive(const struct peer *p);
/* A signal to the process that connected, never to a PID's next owner. */
int peer_signal(const struct peer *p, int sig);
int msg_send(int fd, uint32_t kind, const struct msg *fields);
/* Reads one message from fd; blocking or not as fd is.  1, 0 (nothing
 * yet), -1 (closed or malformed). */
int msg_recv(int fd, struct msg *m);
/* Connects to the ctxrun whose token this is (blocking, close-on-exec). */
int registry_connect(const char *token);

#endif
