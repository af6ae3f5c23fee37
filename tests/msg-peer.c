/* SPDX-License-Identifier: MIT */
/*
 * The library's end of a conversation with a peer it did not write
 * (tests/python-peer.py, Python's socket.send_fds and recv_fds):
 *
 *   msg-peer recv SOCK SEALS COUNT   receive COUNT messages with
 *                                    mfd_recv_msg, requiring SEALS, and
 *                                    print one line for each
 *   msg-peer send SOCK               send the messages python-peer.py
 *                                    expects, with mfd_send_msg
 *
 * A received line is "msg LENGTH DATA memfd SIZE NAME CONTENTS", "msg
 * LENGTH DATA none", "end", or "error ERRNO" (the name, as EINVAL); after
 * every receive the number of open descriptors is checked ("leak" if a
 * refusal left one behind).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libmemfd.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static const char *errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EINVAL, "EINVAL" }, { EPERM, "EPERM" }, { EBADMSG, "EBADMSG" },
		{ EMSGSIZE, "EMSGSIZE" }, { ECONNRESET, "ECONNRESET" }, { EPIPE, "EPIPE" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	return strerror(err);
}

static int receive(int sock, unsigned int seals, int count)
{
	static char buf[1 << 16];

	for (int i = 0; i < count; i++) {
		struct mfd *m = NULL;
		int before = open_fds();
		ssize_t n = mfd_recv_msg(sock, seals, buf, sizeof(buf) - 1, &m);

		if (n < 0) {
			printf("error %s\n", errno_name((int)-n));
		} else if (n == 0 && !m) {
			printf("end\n");
		} else {
			buf[n] = '\0';
			printf("msg %zd %s ", n, n > 64 ? "(long)" : buf);
			if (m) {
				char name[256], contents[256] = "";
				ssize_t got = mfd_pread(m, contents, sizeof(contents) - 1, 0);

				if (got >= 0)
					contents[got] = '\0';
				if (mfd_get_name(m, name, sizeof(name)) < 0)
					strcpy(name, "?");
				printf("memfd %llu %s %s\n", (unsigned long long)mfd_size(m), name,
				       contents);
				mfd_free(m);
			} else {
				printf("none\n");
			}
		}
		if (open_fds() != before)
			printf("leak\n");
		fflush(stdout);
	}
	return 0;
}

static int send_all(int sock)
{
	static const char contents[] = "contents from C";
	int type = 0, r;
	socklen_t len = sizeof(type);
	struct mfd *blob;
	size_t large = 4 << 20;
	char *data;

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return 1;
	r = mfd_new_sealed(&blob, "from-c", contents, strlen(contents));
	if (r < 0)
		return 1;
	/* A message with a memfd, one without, an empty one with a memfd
	 * where the socket has empty messages, and on a stream a large one
	 * that the kernel takes in parts. */
	r = mfd_send_msg(sock, blob, "hello", 5);
	if (r == 0 && send(sock, "plain", 5, MSG_NOSIGNAL) != 5)
		r = -errno;
	if (r == 0 && type != SOCK_STREAM)
		r = mfd_send_msg(sock, blob, NULL, 0);
	if (r == 0 && type == SOCK_STREAM) {
		data = malloc(large);
		if (!data)
			return 1;
		for (size_t i = 0; i < large; i++)
			data[i] = (char)('a' + i % 26);
		r = mfd_send_msg(sock, blob, data, large);
		free(data);
	}
	mfd_free(blob);
	if (r < 0) {
		fprintf(stderr, "msg-peer: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int sock;

	if (argc < 3)
		return 2;
	sock = atoi(argv[2]);
	if (strcmp(argv[1], "recv") == 0 && argc == 5)
		return receive(sock, (unsigned int)strtoul(argv[3], NULL, 0), atoi(argv[4]));
	if (strcmp(argv[1], "send") == 0 && argc == 3)
		return send_all(sock);
	return 2;
}
