/* pairtime - wall time of two commands, one run of each in turn.
 *
 *   pairtime RUNS PREP INPUT OURS... -- REF...
 *
 * Runs OURS and REF RUNS times each (after 3 of each to warm up),
 * alternating which goes first, so that whatever else the machine does
 * slows both alike. Each is started with posix_spawnp, no shell: standard
 * input from the file INPUT, output to /dev/null. PREP, when not empty, runs through sh before each pair,
 * untimed. Prints the medians in ms: "OURS REF". hyperfine runs all of
 * one command before the other and cannot redirect input without a shell,
 * whose ~5 ms here would be added to both. In REF, "{seq}" stands for a
 * fresh 32-hex-digit number at every run (an envelope id the relay has not
 * seen, so that it stores each one). */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Wall time of one run of argv, or exit on failure. */
static double
timed(char **argv, const char *input)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	double t0, t1;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, input, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	t0 = now_ms();
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid) {
		fprintf(stderr, "pairtime: %s: cannot run\n", argv[0]);
		exit(1);
	}
	t1 = now_ms();
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pairtime: %s: failed (status %d)\n", argv[0], st);
		exit(1);
	}
	return t1 - t0;
}

/* argv with "{seq}" (whole argument or part of one) made unique to run n. */
static char **
expand(char **argv, long n)
{
	static char buf[64][1024];
	static char *out[64];
	static unsigned long stamp;
	int i;

	if (stamp == 0)
		stamp = (unsigned long)time(NULL) << 16 ^ (unsigned long)getpid();
	for (i = 0; argv[i] != NULL && i < 63; i++) {
		char *at = strstr(argv[i], "{seq}");

		if (at == NULL || strlen(argv[i]) + 32 >= sizeof buf[i]) {
			out[i] = argv[i];
			continue;
		}
		snprintf(buf[i], sizeof buf[i], "%.*s%016lx%016lx%s",
		    (int)(at - argv[i]), argv[i], stamp, (unsigned long)(n + 3),
		    at + 5);
		out[i] = buf[i];
	}
	out[i] = NULL;
	return out;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	char **ours, **ref = NULL;
	double *to, *tr, a, b;
	int runs, i;

	if (argc < 7 || (runs = atoi(argv[1])) < 1)
		goto usage;
	ours = argv + 4;
	for (i = 4; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			ref = argv + i + 1;
			break;
		}
	if (ref == NULL || ref[0] == NULL || ours[0] == NULL)
		goto usage;
	if ((to = calloc((size_t)runs, sizeof *to)) == NULL ||
	    (tr = calloc((size_t)runs, sizeof *tr)) == NULL)
		return 1;
	for (i = -3; i < runs; i++) {
		if (argv[2][0] != '\0' && system(argv[2]) != 0) {
			fprintf(stderr, "pairtime: %s: failed\n", argv[2]);
			return 1;
		}
		if (i % 2 == 0) {
			a = timed(ours, argv[3]);
			b = timed(expand(ref, i), argv[3]);
		} else {
			b = timed(expand(ref, i), argv[3]);
			a = timed(ours, argv[3]);
		}
		if (i >= 0) {
			to[i] = a;
			tr[i] = b;
		}
	}
	printf("%.2f %.2f\n", median(to, runs), median(tr, runs));
	return 0;
usage:
	fprintf(stderr, "usage: pairtime RUNS PREP INPUT OURS... -- REF...\n");
	return 64;
}
