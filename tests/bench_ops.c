/* SPDX-License-Identifier: MIT */
/*
 * bench_ops.c - client-side benchmarks for scripts/bench.sh: one mode per call, against any
 * path, so that the same code measures ipcfs, the null filesystem (bench_nullfs) and the
 * kernel. Not a test: it prints lines "KEY VALUE UNIT", each VALUE the median of RUNS runs.
 *
 *   bench_ops [-n ITERS] [-r RUNS] MODE ARGS...
 *
 * Through a file (ipcfs or bench_nullfs), on one open descriptor unless said otherwise:
 *   sem PATH               V alone, P alone (batches of ITERS), V+P pairs  (v, p, vp: ns/op)
 *   xsem VPATH PPATH       V+P pairs, V through VPATH and P through PPATH: two mounts of a
 *                          cluster, the same semaphore (ns/op)
 *   mq PATH SIZE           send SIZE bytes + receive it + the end-of-message read (ns/op)
 *   rw PATH W [R...]       per op: one write of W bytes (none if 0), then reads of R bytes each
 *   openclose PATH         open(O_RDWR) + close by path (a mutex: acquire + release) (ns/op)
 *   fifo PATH BS MB        a writer process writes MB MiB in BS-byte writes, this one reads
 *                          them with BS-byte reads (MB/s)
 * The kernel, same shapes:
 *   k-pipe | k-fifo | k-eventfd | k-sem   1-byte write+read / post+wait in one thread (ns/op)
 *   k-mq SIZE              POSIX queue mq_send + mq_receive (ns/op)
 *   k-flock PATH           open + flock(LOCK_EX) + close of a file (ns/op)
 *   k-pipetp BS MB         pipe throughput, writer and reader processes (MB/s)
 * Scale and memory (objects DIR/s0 ... DIR/s<N-1> are created when missing):
 *   scale DIR N            V and P round-robin over N semaphores on open descriptors (ops/s)
 *   create DIR N           create N empty objects, open and close each
 *   fill PREFIX COUNT BYTES WSIZE   write BYTES in WSIZE-byte writes to each of COUNT
 *                          files PREFIX0 ... (FIFOs, queues), without reading them
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 31
#define MAX_SIZE (1024 * 1024)

static long iters = 0; /* -n; 0: the mode's default */
static int runs = 5;   /* -r */
static char *wbuf, *rbuf;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_ops: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *key, double *v, const char *unit)
{
	printf("%s %.1f %s\n", key, median_of(v, runs), unit);
	fflush(stdout);
}

static long niters(long def)
{
	return iters > 0 ? iters : def;
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0666);

	if (fd < 0)
		die(path);
	return fd;
}

static void write_or_die(int fd, const void *buf, size_t len)
{
	ssize_t k = write(fd, buf, len);

	if (k != (ssize_t)len) {
		if (k >= 0)
			errno = EIO;
		die("write");
	}
}

static ssize_t read_or_die(int fd, void *buf, size_t len)
{
	ssize_t k = read(fd, buf, len);

	if (k < 0)
		die("read");
	return k;
}

static void raise_nofile(long n)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = (rlim_t)n + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("setrlimit");
}

/* ---- through a file ---- */

static int mode_sem(const char *path)
{
	long n = niters(2000);
	double v[MAX_RUNS], p[MAX_RUNS], vp[MAX_RUNS];
	int fd = open_or_die(path, O_RDWR);

	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns(), t1, t2;

		for (long i = 0; i < n; i++)
			write_or_die(fd, "\n", 1); /* V(1), as `echo > sem/s` */
		t1 = now_ns();
		for (long i = 0; i < n; i++)
			read_or_die(fd, rbuf, 1); /* P(1) */
		t2 = now_ns();
		for (long i = 0; i < n; i++) {
			write_or_die(fd, "\n", 1);
			read_or_die(fd, rbuf, 1);
		}
		v[r] = (double)(t1 - t0) / (double)n;
		p[r] = (double)(t2 - t1) / (double)n;
		vp[r] = (double)(now_ns() - t2) / (double)n;
	}
	close(fd);
	report("v", v, "ns/op");
	report("p", p, "ns/op");
	report("vp", vp, "ns/op");
	return 0;
}

/* V through one path, P through another (two mounts of one cluster): the pair's latency. */
static int mode_xsem(const char *vpath, const char *ppath)
{
	long n = niters(500);
	double vp[MAX_RUNS];
	int vfd = open_or_die(vpath, O_WRONLY), pfd = open_or_die(ppath, O_RDONLY);

	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			write_or_die(vfd, "\n", 1);
			read_or_die(pfd, rbuf, 1);
		}
		vp[r] = (double)(now_ns() - t0) / (double)n;
	}
	close(vfd);
	close(pfd);
	report("xsem", vp, "ns/op");
	return 0;
}

static int mode_mq(const char *path, size_t size)
{
	long n = niters(2000);
	double v[MAX_RUNS];
	int fd = open_or_die(path, O_RDWR);

	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			write_or_die(fd, wbuf, size);
			if (read_or_die(fd, rbuf, size) != (ssize_t)size ||
			    read_or_die(fd, rbuf, size) != 0) {
				fprintf(stderr, "bench_ops: %s: not a message queue\n", path);
				return 1;
			}
		}
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	close(fd);
	report("mq", v, "ns/op");
	return 0;
}

static int mode_rw(const char *path, size_t w, int nreads, char **rsizes)
{
	long n = niters(2000);
	double v[MAX_RUNS];
	size_t rs[16];
	int fd = open_or_die(path, O_RDWR);

	if (nreads > 16)
		nreads = 16;
	for (int j = 0; j < nreads; j++)
		rs[j] = (size_t)atol(rsizes[j]);
	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			if (w)
				write_or_die(fd, wbuf, w);
			for (int j = 0; j < nreads; j++)
				read_or_die(fd, rbuf, rs[j]);
		}
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	close(fd);
	report("rw", v, "ns/op");
	return 0;
}

static int mode_openclose(const char *path)
{
	long n = niters(2000);
	double v[MAX_RUNS];

	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			close(open_or_die(path, O_RDWR));
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	report("openclose", v, "ns/op");
	return 0;
}

/* A writer process writes total bytes in bs-byte writes to wfd (or to path, opened for
 * writing); the caller reads them from rfd. MB/s (MiB/s), from the fork to the last byte. */
static double stream_once(int rfd, int wfd, const char *path, size_t bs, size_t total)
{
	int64_t t0 = now_ns();
	size_t got = 0;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (rfd >= 0 && wfd >= 0)
			close(rfd);
		if (wfd < 0)
			wfd = open_or_die(path, O_WRONLY);
		for (size_t left = total; left > 0;) {
			size_t k = left < bs ? left : bs;

			write_or_die(wfd, wbuf, k);
			left -= k;
		}
		_exit(0);
	}
	if (wfd >= 0)
		close(wfd);
	while (got < total) {
		ssize_t k = read_or_die(rfd, rbuf, bs);

		if (k == 0) {
			fprintf(stderr, "bench_ops: end of file after %zu bytes\n", got);
			exit(1);
		}
		got += (size_t)k;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	int status;

	waitpid(pid, &status, 0);
	return (double)total / (1024.0 * 1024.0) / secs;
}

static int mode_fifo(const char *path, size_t bs, long mb)
{
	double v[MAX_RUNS];

	for (int r = 0; r < runs; r++) {
		int rfd = open_or_die(path, O_RDONLY);

		v[r] = stream_once(rfd, -1, path, bs, (size_t)mb << 20);
		close(rfd);
	}
	report("fifo", v, "MB/s");
	return 0;
}

/* ---- the kernel ---- */

static int mode_k_pipetp(size_t bs, long mb)
{
	double v[MAX_RUNS];

	for (int r = 0; r < runs; r++) {
		int p[2];

		if (pipe(p) != 0)
			die("pipe");
		v[r] = stream_once(p[0], p[1], NULL, bs, (size_t)mb << 20);
		close(p[0]);
	}
	report("pipetp", v, "MB/s");
	return 0;
}

/* 1-byte write + read on rfd/wfd (the same or a pair), in one thread */
static void pingself(const char *key, int rfd, int wfd, size_t len, long n)
{
	double v[MAX_RUNS];

	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			write_or_die(wfd, wbuf, len);
			read_or_die(rfd, rbuf, len);
		}
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	report(key, v, "ns/op");
}

static int mode_k_pipe(void)
{
	int p[2];

	if (pipe(p) != 0)
		die("pipe");
	pingself("pipe", p[0], p[1], 1, niters(200000));
	return 0;
}

static int mode_k_fifo(void)
{
	char dir[] = "/tmp/bench_ops.XXXXXX", path[64];
	int fd;

	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600) != 0)
		die("mkfifo");
	fd = open_or_die(path, O_RDWR);
	unlink(path);
	rmdir(dir);
	pingself("fifo", fd, fd, 1, niters(200000));
	return 0;
}

static int mode_k_eventfd(void)
{
	uint64_t one = 1, got;
	double v[MAX_RUNS];
	long n = niters(200000);
	int fd = eventfd(0, 0);

	if (fd < 0)
		die("eventfd");
	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			write_or_die(fd, &one, sizeof(one));
			read_or_die(fd, &got, sizeof(got));
		}
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	report("eventfd", v, "ns/op");
	return 0;
}

static int mode_k_sem(void)
{
	double v[MAX_RUNS];
	long n = niters(5000000);
	sem_t *s =
		mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED)
		die("mmap");
	sem_init(s, 1, 0);
	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			sem_post(s);
			sem_wait(s);
		}
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	report("sem", v, "ns/op");
	return 0;
}

static int mode_k_mq(size_t size)
{
	struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = 8192 };
	double v[MAX_RUNS];
	long n = niters(200000);
	char name[64];
	mqd_t q;

	snprintf(name, sizeof(name), "/bench_ops.%d", (int)getpid());
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	if (q == (mqd_t)-1)
		die("mq_open");
	mq_unlink(name);
	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			if (mq_send(q, wbuf, size, 0) != 0)
				die("mq_send");
			if (mq_receive(q, rbuf, 8192, NULL) != (ssize_t)size)
				die("mq_receive");
		}
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	mq_close(q);
	report("mq", v, "ns/op");
	return 0;
}

static int mode_k_flock(const char *path)
{
	double v[MAX_RUNS];
	long n = niters(200000);

	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			int fd = open_or_die(path, O_RDWR | O_CREAT);

			if (flock(fd, LOCK_EX) != 0)
				die("flock");
			close(fd);
		}
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	report("flock", v, "ns/op");
	return 0;
}

/* ---- scale and memory ---- */

static int *open_objects(const char *dir, long n, bool keep)
{
	int *fds = keep ? calloc((size_t)n, sizeof(int)) : NULL;
	char path[4096];

	if (keep && !fds)
		die("calloc");
	if (keep)
		raise_nofile(n);
	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/s%ld", dir, i);
		fd = open_or_die(path, O_RDWR | O_CREAT);
		if (keep)
			fds[i] = fd;
		else
			close(fd);
	}
	return fds;
}

static int mode_scale(const char *dir, long nobj)
{
	long n = niters(4000); /* V+P pairs per run */
	double v[MAX_RUNS];
	int *fds = open_objects(dir, nobj, true);

	for (int r = 0; r < runs; r++) {
		int64_t t0 = now_ns();

		for (long i = 0; i < n; i++) {
			int fd = fds[i % nobj];

			write_or_die(fd, "\n", 1);
			read_or_die(fd, rbuf, 1);
		}
		v[r] = 2.0 * (double)n / ((double)(now_ns() - t0) / 1e9);
	}
	for (long i = 0; i < nobj; i++)
		close(fds[i]);
	free(fds);
	report("scale", v, "ops/s");
	return 0;
}

static int mode_create(const char *dir, long nobj)
{
	int64_t t0 = now_ns();

	free(open_objects(dir, nobj, false));
	printf("create %.1f ns/op\n", (double)(now_ns() - t0) / (double)nobj);
	return 0;
}

static int mode_fill(const char *prefix, long count, size_t bytes, size_t wsize)
{
	char path[4096];

	for (long i = 0; i < count; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s%ld", prefix, i);
		fd = open_or_die(path, O_WRONLY | O_CREAT);
		for (size_t left = bytes; left > 0;) {
			size_t k = left < wsize ? left : wsize;

			write_or_die(fd, wbuf, k);
			left -= k;
		}
		close(fd);
	}
	printf("fill %zu bytes\n", (size_t)count * bytes);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_ops [-n ITERS] [-r RUNS] MODE ARGS... (see the source)\n");
	return 2;
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "+n:r:")) != -1) {
		if (opt == 'n')
			iters = atol(optarg);
		else if (opt == 'r')
			runs = atoi(optarg);
		else
			return usage();
	}
	if (runs < 1 || runs > MAX_RUNS || optind >= argc)
		return usage();
	argv += optind;
	argc -= optind;
	wbuf = malloc(MAX_SIZE);
	rbuf = malloc(MAX_SIZE);
	if (!wbuf || !rbuf)
		die("malloc");
	memset(wbuf, '\n', MAX_SIZE); /* white space: V(1) for a semaphore, any message */
	signal(SIGPIPE, SIG_IGN);

	const char *m = argv[0];
#define NEED(k)                         \
	do {                            \
		if (argc < (k) + 1)     \
			return usage(); \
	} while (0)
	if (strcmp(m, "sem") == 0) {
		NEED(1);
		return mode_sem(argv[1]);
	} else if (strcmp(m, "xsem") == 0) {
		NEED(2);
		return mode_xsem(argv[1], argv[2]);
	} else if (strcmp(m, "mq") == 0) {
		NEED(2);
		return mode_mq(argv[1], (size_t)atol(argv[2]));
	} else if (strcmp(m, "rw") == 0) {
		NEED(2);
		return mode_rw(argv[1], (size_t)atol(argv[2]), argc - 3, argv + 3);
	} else if (strcmp(m, "openclose") == 0) {
		NEED(1);
		return mode_openclose(argv[1]);
	} else if (strcmp(m, "fifo") == 0) {
		NEED(3);
		return mode_fifo(argv[1], (size_t)atol(argv[2]), atol(argv[3]));
	} else if (strcmp(m, "k-pipe") == 0) {
		return mode_k_pipe();
	} else if (strcmp(m, "k-fifo") == 0) {
		return mode_k_fifo();
	} else if (strcmp(m, "k-eventfd") == 0) {
		return mode_k_eventfd();
	} else if (strcmp(m, "k-sem") == 0) {
		return mode_k_sem();
	} else if (strcmp(m, "k-mq") == 0) {
		NEED(1);
		return mode_k_mq((size_t)atol(argv[1]));
	} else if (strcmp(m, "k-flock") == 0) {
		NEED(1);
		return mode_k_flock(argv[1]);
	} else if (strcmp(m, "k-pipetp") == 0) {
		NEED(2);
		return mode_k_pipetp((size_t)atol(argv[1]), atol(argv[2]));
	} else if (strcmp(m, "scale") == 0) {
		NEED(2);
		return mode_scale(argv[1], atol(argv[2]));
	} else if (strcmp(m, "create") == 0) {
		NEED(2);
		return mode_create(argv[1], atol(argv[2]));
	} else if (strcmp(m, "fill") == 0) {
		NEED(4);
		return mode_fill(argv[1], atol(argv[2]), (size_t)atol(argv[3]),
				 (size_t)atol(argv[4]));
	}
	return usage();
}
