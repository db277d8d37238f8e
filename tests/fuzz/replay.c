/* Runs a fuzz target over files, without libFuzzer: what make check uses to
 * replay the corpus under the sanitizers with any compiler. */
#include "fuzz.h"

int
main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];

	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%s: %d inputs replayed\n", argv[0], argc - 1);
	return 0;
}
