/*
 * The output relay of --idle-timeout (relay.c).
 * Private to lib/: cmd/ uses lib/ctxrun.h only.
 */
#ifndef CTXRUN_RELAY_H
#define CTXRUN_RELAY_H

#include <termios.h>
#include "ctxrun.h"

struct pollfd;

/* One way from the tree to a real destination. */
struct relay_channel {
	int src;                /* ctxrun's end: relay pipe or pty master */
	int tree_end;           /* the tree's: pipe write end or pty slave */
	int sink;               /* the destination, non-blocking if our own */
	int term_fd;            /* a pty's real terminal (sink), else -1 */
	bool pty, socket;
	bool named_fifo;        /* a FIFO whose reader may come back */
	bool splice;            /* moved by splice(2), not copied */
	bool sink_nonblocking;  /* a description of ctxrun's own */
	bool stalled;           /* the destination is full: wait for POLLOUT */
	bool gone;              /* the reader downstream went away */
	int error;              /* why the destination failed (gone) */
	bool error_said;
	char *buf;              /* a copy's bytes not yet written */
	size_t off, len;
	struct termios modes_seen;      /* a pty's, as last copied */
};

struct relay {
	struct relay_channel ch[2];
	size_t n;
	int tree_fd[3];         /* what fds 1 and 2 are in the tree, -1: as is */
};

/* Channels for fds 1 and 2 (one for both when they are one open file or
 * one terminal; none for a closed one).  -1 with errno. */
int relay_open(struct relay *r);
void relay_close(struct relay *r);
/* Moves everything channel i holds that the destination takes now;
 * returns the bytes that came from the tree. */
size_t relay_pump(struct relay *r, size_t i);
/* Whether a destination is full: the tree waits for a reader, it is not
 * idle. */
bool relay_stalled(const struct relay *r);
/* What to poll (at most 4): fds[k] is channel which[k]'s source, or its
 * destination (full, or watched for its reader going away). */
size_t relay_pollfds(const struct relay *r, struct pollfd *fds, size_t *which);
/* A destination that polled ready without POLLOUT: its reader is gone. */
void relay_ready(struct relay *r, size_t i, const struct pollfd *pfd);
/* Copies the real terminal's size to the pseudo-terminals; true if one
 * changed. */
bool relay_resize(struct relay *r);
/* The real terminal behind a pseudo-terminal channel, or -1. */
int relay_terminal(const struct relay *r);

#endif
