/* SPDX-License-Identifier: MIT */
/*
 * client_shm_map.c - one process's view of a shared-memory segment, for the integration tests:
 * runs a list of steps on one path through a descriptor and a MAP_SHARED mapping, and reports
 * the outcome of each, which a shell cannot do for memory stores and loads.
 *
 *   client_shm_map PATH STEP...
 *   steps:
 *     open[:FLAGS]     open PATH O_RDWR, plus c (O_CREAT, mode 0600), t (O_TRUNC),
 *                      a (O_APPEND), d (O_DIRECT); r opens O_RDONLY instead
 *     map:LEN          mmap(MAP_SHARED, PROT_READ|PROT_WRITE) of LEN bytes at offset 0
 *     unmap | close    munmap the mapping / close the descriptor
 *     store:OFF:TEXT   copy TEXT into the mapping at OFF (plain stores, no msync)
 *     fill:OFF:LEN:C   store the character C into LEN bytes of the mapping from OFF
 *     load:OFF:LEN     print "load=TEXT": LEN bytes of the mapping at OFF
 *     wait:OFF:TEXT    spin on the mapping, with no system call, until TEXT is at OFF;
 *                      fails with ETIMEDOUT after 2 s
 *     pwrite:OFF:TEXT  pwrite(2) TEXT at OFF, all of it (a short write fails with EIO)
 *     pread:OFF:LEN    print "pread=N TEXT": what pread(2) of LEN bytes at OFF returned
 *     ftruncate:LEN    ftruncate(2)
 *     stat             print "stat=SIZE BLOCKS NLINK" from fstat(2)
 *     msync            msync(MS_SYNC) of the whole mapping
 *     faults           print "faults=N": the page faults this process took so far (minor and
 *                      major): a load from a page still mapped takes none
 *     pause            print "paused" and wait for SIGUSR1 (the test's go-ahead)
 *     sleep:MS
 *
 * What a step finds is printed on a line of its own ("load=..."), loaded and read bytes as
 * text with a NUL as '.' and other bytes outside ASCII text as \xHH. A load or store that faults
 * (SIGBUS, SIGSEGV) fails with "EFAULT". Each step prints "STEP ok" or "STEP ERRNAME"; the
 * first failing step ends the program with status 1. SIGALRM after 20 s ends a forgotten
 * client, so that a failed test leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf fault_jmp;

static void on_fault(int sig)
{
	siglongjmp(fault_jmp, sig);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Print n bytes as text: a NUL as '.', other bytes outside ASCII text as \xHH. */
static void print_bytes(const char *what, const unsigned char *p, size_t n)
{
	printf("%s", what);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == 0)
			putchar('.');
		else if (p[i] < 0x20 || p[i] > 0x7e)
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
	putchar('\n');
}

/* Split "OFF:TEXT" (or "OFF:LEN"): the offset, and the rest in *rest. -1 if malformed. */
static long long offset_and(const char *arg, const char **rest)
{
	char *end;
	long long off = strtoll(arg, &end, 0);

	if (end == arg || *end != ':' || off < 0)
		return -1;
	*rest = end + 1;
	return off;
}

int main(int argc, char **argv)
{
	/* volatile: kept across the siglongjmp of a faulting access */
	volatile unsigned char *volatile map = NULL;
	volatile size_t map_len = 0;
	volatile int fd = -1;
	const char *path;
	sigset_t usr1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PATH STEP...\n", argv[0]);
		return 2;
	}
	path = argv[1];
	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
	signal(SIGALRM, SIG_DFL);
	alarm(20);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL); /* a go-ahead sent early is kept until pause */

	for (int i = 2; i < argc; i++) {
		const char *step = argv[i], *arg = strchr(step, ':'), *rest = NULL;
		long long off = 0;
		int rc = 0;

		arg = arg ? arg + 1 : "";
		if (sigsetjmp(fault_jmp, 1)) {
			printf("%s EFAULT\n", step);
			return 1;
		}
		if (strncmp(step, "open", 4) == 0) {
			int flags = strchr(arg, 'r') ? O_RDONLY : O_RDWR;

			flags |= strchr(arg, 'c') ? O_CREAT : 0;
			flags |= strchr(arg, 't') ? O_TRUNC : 0;
			flags |= strchr(arg, 'a') ? O_APPEND : 0;
			flags |= strchr(arg, 'd') ? O_DIRECT : 0;
			fd = open(path, flags, 0600);
			rc = fd < 0 ? errno : 0;
		} else if (strncmp(step, "map:", 4) == 0) {
			size_t len = strtoull(arg, NULL, 0);
			void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

			if (p == MAP_FAILED) {
				rc = errno;
			} else {
				map = p;
				map_len = len;
			}
		} else if (strcmp(step, "unmap") == 0) {
			rc = munmap((void *)map, map_len) ? errno : 0;
			map = NULL;
		} else if (strcmp(step, "close") == 0) {
			rc = close(fd) ? errno : 0;
			fd = -1;
		} else if (strncmp(step, "store:", 6) == 0 || strncmp(step, "wait:", 5) == 0) {
			size_t n;
			long long deadline = now_ms() + 2000;

			if ((off = offset_and(arg, &rest)) < 0)
				goto usage;
			n = strlen(rest);
			if (!map || (size_t)off + n > map_len) {
				rc = EINVAL;
			} else if (step[0] == 's') {
				for (size_t k = 0; k < n; k++)
					map[off + k] = (unsigned char)rest[k];
			} else {
				/* a plain memory poll: the other process's store must show up with
				 * no msync and no system call on this side */
				for (unsigned long spins = 0;; spins++) {
					size_t k = 0;

					while (k < n && map[off + k] == (unsigned char)rest[k])
						k++;
					if (k == n)
						break;
					if (spins % 4096 == 0 && now_ms() > deadline) {
						rc = ETIMEDOUT;
						break;
					}
				}
			}
		} else if (strncmp(step, "fill:", 5) == 0) {
			char *end;
			size_t n;

			if ((off = offset_and(arg, &rest)) < 0)
				goto usage;
			n = strtoull(rest, &end, 0);
			if (*end != ':' || !end[1])
				goto usage;
			if (!map || (size_t)off + n > map_len)
				rc = EINVAL;
			else
				memset((void *)(map + off), end[1], n);
		} else if (strncmp(step, "load:", 5) == 0) {
			size_t n;
			unsigned char buf[4096];

			if ((off = offset_and(arg, &rest)) < 0)
				goto usage;
			n = strtoull(rest, NULL, 0);
			if (!map || (size_t)off + n > map_len || n > sizeof(buf)) {
				rc = EINVAL;
			} else {
				for (size_t k = 0; k < n; k++)
					buf[k] = map[off + k];
				print_bytes("load=", buf, n);
			}
		} else if (strncmp(step, "pwrite:", 7) == 0) {
			ssize_t w;

			if ((off = offset_and(arg, &rest)) < 0)
				goto usage;
			w = pwrite(fd, rest, strlen(rest), off);
			rc = w < 0 ? errno : (size_t)w != strlen(rest) ? EIO : 0;
		} else if (strncmp(step, "pread:", 6) == 0) {
			unsigned char buf[4096];
			size_t n;
			ssize_t r;

			if ((off = offset_and(arg, &rest)) < 0)
				goto usage;
			n = strtoull(rest, NULL, 0);
			if (n > sizeof(buf)) {
				rc = EINVAL;
			} else if ((r = pread(fd, buf, n, off)) < 0) {
				rc = errno;
			} else {
				char what[32];

				snprintf(what, sizeof(what), "pread=%zd ", r);
				print_bytes(what, buf, (size_t)r);
			}
		} else if (strncmp(step, "ftruncate:", 10) == 0) {
			rc = ftruncate(fd, strtoll(arg, NULL, 0)) ? errno : 0;
		} else if (strcmp(step, "stat") == 0) {
			struct stat st;

			if (fstat(fd, &st)) {
				rc = errno;
			} else {
				printf("stat=%lld %lld %lu\n", (long long)st.st_size,
				       (long long)st.st_blocks, (unsigned long)st.st_nlink);
			}
		} else if (strcmp(step, "faults") == 0) {
			struct rusage ru;

			getrusage(RUSAGE_SELF, &ru);
			printf("faults=%ld\n", ru.ru_minflt + ru.ru_majflt);
		} else if (strcmp(step, "msync") == 0) {
			rc = msync((void *)map, map_len, MS_SYNC) ? errno : 0;
		} else if (strcmp(step, "pause") == 0) {
			int sig;

			printf("paused\n");
			fflush(stdout);
			sigwait(&usr1, &sig);
		} else if (strncmp(step, "sleep:", 6) == 0) {
			usleep((useconds_t)strtoul(arg, NULL, 0) * 1000);
		} else {
			goto usage;
		}
		if (rc) {
			printf("%s %s\n", step, strerrorname_np(rc) ? strerrorname_np(rc) : "E?");
			return 1;
		}
		printf("%s ok\n", step);
		fflush(stdout);
		continue;
	usage:
		fprintf(stderr, "%s: bad step '%s'\n", argv[0], step);
		return 2;
	}
	return 0;
}
