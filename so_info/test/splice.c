// SPDX-License-Identifier: GPL-2.0
/*
 * so_info_splice: read a proc file with sendfile(2) and with splice(2),
 * without falling back to read(2) (busybox cat silently falls back), for the
 * VM test's check that /proc/so_info supports both (.proc_read_iter =
 * seq_read_iter; a .proc_read = seq_read entry makes both fail with EINVAL).
 *
 *   so_info_splice [FILE]   (default /proc/so_info)
 *
 * Writes what sendfile() copied into a regular file, then what splice()
 * moved into a pipe, to stdout; on a failure prints the call and errno to
 * stderr and exits 1.  Built statically by vm-test.sh for the initramfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#define MAX 256

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "so_info_splice: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/proc/so_info";
	const char *tmp = "/tmp/so_info_splice.out";
	char buf[MAX];
	int in, out, p[2];
	ssize_t n, m;

	/* sendfile() into a regular file */
	in = open(path, O_RDONLY);
	if (in < 0)
		return fail("open", path);
	out = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (out < 0)
		return fail("open", tmp);
	n = sendfile(out, in, NULL, MAX);
	if (n < 0)
		return fail("sendfile from", path);
	m = pread(out, buf, sizeof(buf), 0);
	if (m != n)
		return fail("pread", tmp);
	if (write(STDOUT_FILENO, buf, (size_t)m) != m)
		return fail("write", "stdout");
	close(out);
	unlink(tmp);
	close(in);

	/* splice() into a pipe */
	in = open(path, O_RDONLY);
	if (in < 0)
		return fail("open", path);
	if (pipe(p) < 0)
		return fail("pipe", "");
	n = splice(in, NULL, p[1], NULL, MAX, 0);
	if (n < 0)
		return fail("splice from", path);
	m = read(p[0], buf, sizeof(buf));
	if (m != n)
		return fail("read", "pipe");
	if (write(STDOUT_FILENO, buf, (size_t)m) != m)
		return fail("write", "stdout");
	return 0;
}
