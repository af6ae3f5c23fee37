/* SPDX-License-Identifier: MIT */
/*
 * A journal entry too large for one datagram, sent to systemd-journald's
 * native socket as it takes such entries: an empty datagram that carries
 * a sealed memfd holding the entry (mfd_new_sealed, mfd_send_msg).
 *
 *   journal-send SOCKET-PATH MESSAGE
 *
 * The entry has MESSAGE, SYSLOG_IDENTIFIER=libmemfd-test and a field
 * LIBMEMFD_BIG of 256 KiB, more than a datagram may hold by default.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libmemfd.h"

#define BIG (256 << 10)

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t length = 0, size;
	struct mfd *blob;
	char *entry;
	int sock, r;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path))
		return 2;
	size = strlen(argv[2]) + BIG + 128;
	entry = malloc(size);
	if (!entry)
		return 1;
	length += (size_t)snprintf(entry, size, "MESSAGE=%s\nSYSLOG_IDENTIFIER=libmemfd-test\n"
				   "LIBMEMFD_BIG=", argv[2]);
	memset(entry + length, 'x', BIG);
	length += BIG;
	entry[length++] = '\n';

	strcpy(sa.sun_path, argv[1]);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror(argv[1]);
		return 1;
	}
	r = mfd_new_sealed(&blob, "journal-entry", entry, length);
	if (r == 0) {
		r = mfd_send_msg(sock, blob, NULL, 0);
		mfd_free(blob);
	}
	free(entry);
	close(sock);
	if (r < 0) {
		fprintf(stderr, "journal-send: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
