// SPDX-License-Identifier: Apache-2.0
/* fg-gocall PID N [TIMEOUT_MS]: one live runtime.GOMAXPROCS(N) call in a
 * running Go process, for the integration tests and the bench. Prints
 * "prev=P ms=T probes=K trigger=0|1 other_thread=0|1", or the reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gocall.h"

int main(int argc, char **argv)
{
	struct gocall_result res;
	long timeout_ms = 2000;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: fg-gocall PID N [TIMEOUT_MS]\n");
		return 2;
	}
	if (argc > 3)
		timeout_ms = strtol(argv[3], NULL, 10);
	r = gocall_gomaxprocs((pid_t)strtol(argv[1], NULL, 10), (int)strtol(argv[2], NULL, 10),
			      (int64_t)timeout_ms * 1000000, &res);
	if (r < 0) {
		printf("error=%s why=%s ms=%.3f\n", strerror(-r), res.why,
		       (double)res.elapsed_ns / 1e6);
		return 1;
	}
	printf("prev=%d ms=%.3f probes=%d attempts=%d trigger=%d other_thread=%d\n", res.prev,
	       (double)res.elapsed_ns / 1e6, res.probes, res.attempts, res.via_trigger,
	       res.other_thread);
	return 0;
}
