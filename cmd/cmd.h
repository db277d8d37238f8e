/* The ctxrun command line: shared by main.c and subcommands.c. */
#ifndef CTXRUN_CMD_H
#define CTXRUN_CMD_H

#include <stdint.h>
#include <sys/cdefs.h>

#define CTXRUN_VERSION "0.1.0"

/* One line "ctxrun: ..." on stderr and exit 125: nothing was started. */
void __dead2 usage_error(const char *fmt, ...) __printflike(1, 2);

int cmd_remaining(int argc, char **argv);
int cmd_deadline(int argc, char **argv);
int cmd_value(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
struct run_opts;
struct ctx;
/* Runs o->argv under ctx (freed here), or 124 if its deadline has passed. */
int run_in_context(struct run_opts *o, struct ctx *ctx);
/* GNU timeout's command line; argv[0] is "timeout". */
int cmd_timeout(int argc, char **argv, int64_t start);

#endif
