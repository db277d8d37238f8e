/*
 * What the files of lib/ share with each other (and their unit tests) but
 * not with cmd/: the front end needs none of it.  lib/ctxrun.h is the
 * public interface.
 */
#ifndef CTXRUN_INTERNAL_H
#define CTXRUN_INTERNAL_H

#include "ctxrun.h"
#include "supervise.h"

/* Fills err (printf style) and returns -1, for "return ctx_fail(...)". */
int ctx_fail(ctx_err *err, const char *fmt, ...) __printflike(2, 3);
/* Unsigned decimal seconds with up to 9 fraction digits ("12.5"). */
int parse_seconds(const char *s, int64_t *ns);
/* This boot's id (/proc/sys/kernel/random/boot_id), "" if unknown. */
const char *boot_id(void);
/* What CLOCK_MONOTONIC here is: "BOOTID+TIMENS", the boot id and the inode
 * of our time namespace (/proc/self/ns/time), which can offset the clock
 * on the same boot; just "BOOTID" without time namespaces; "" if unknown. */
const char *mono_clock_id(void);
/* Whether a monotonic time from a process whose mono_clock_id() was id
 * means the same here.  A bare boot id (older ctxrun) is trusted on this
 * boot only in the initial time namespace. */
bool same_mono_clock(const char *id);
/* Frees the node and its descendants. */
void ctx_free(struct ctx *c);
/* Deadlines closer than this are the same deadline for ctx_deadline_owner:
 * below what messages print, and the jitter of converting one instant
 * from the wall clock in two processes. */
#define CTX_DEADLINE_TIE NS_PER_MS
/* The value of CTXRUN_<depth> for node c ("name=... pid=... ..."). */
char *ctx_encode(const struct ctx *c, pid_t pid, const char *token);
/* The value of NAME in envp (an environment, not necessarily environ's),
 * or NULL. */
const char *env_get(char *const *envp, const char *name);
/* The wait before attempt n + 1 (n >= 1): see RETRIES in ctxrun(1). */
int64_t retry_wait(const struct retry_policy *rp, unsigned n);

#endif
