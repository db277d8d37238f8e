/* Signal names and numbers: what is accepted is a signal number, and its
 * name parses back to it. */
#include <signal.h>

#include "../../lib/gnu.h"
#include "../../lib/internal.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), buf[32];
	ctx_err err;
	int sig, again;

	if (parse_signal(s, &sig, &err) == 0) {
		PROPERTY(sig >= 0 && sig <= SIGRTMAX, "'%s' gave %d", s, sig);
		signal_name(sig, buf, sizeof(buf));
		PROPERTY(parse_signal(buf, &again, &err) == 0 && again == sig,
		    "'%s' -> %d -> '%s'", s, sig, buf);
	}
	free(s);
	return 0;
}
