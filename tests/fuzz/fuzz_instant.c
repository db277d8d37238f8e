/* Deadlines: an accepted instant is after 1970 and fits; printed (to the
 * millisecond) and parsed again, it is the same millisecond. */
#include "../../lib/internal.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), buf[64];
	int64_t v, again;
	ctx_err err;

	if (parse_instant(s, &v, &err) == 0) {
		/* Printed to the millisecond towards the past, also before 1970;
		 * what falls before CTX_INSTANT_MIN comes back clamped to it. */
		int64_t r = v % NS_PER_MS, ms = v - (r < 0 ? r + NS_PER_MS : r);
		PROPERTY(v >= CTX_INSTANT_MIN, "'%s' gave %lld", s, (long long)v);
		format_instant(v, buf, sizeof(buf));
		PROPERTY(parse_instant(buf, &again, &err) == 0 &&
		    again == (ms < CTX_INSTANT_MIN ? CTX_INSTANT_MIN : ms),
		    "'%s' -> %lld -> '%s'", s, (long long)v, buf);
	}
	free(s);
	return 0;
}
